"""What an SQS event source mapping does for a function, done by the test against moto.

Receive with every attribute, hand the messages to the handler in Lambda's
SQS event shape, then delete the records the handler did not report as failed
(`ReportBatchItemFailures`); failed ones are left to come back after their
visibility timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from asyncmcp_cli.serverless import lambda_handler
from tests.conftest import Queues


@dataclass
class FakeContext:
    """The one part of the Lambda context the handler reads."""

    seconds_left: float = 60.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


def queue_arn(queues: Queues, url: str) -> str:
    return queues.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive_event(queues: Queues, url: str, *, visibility: int = 30, wait: int = 1) -> dict[str, Any]:
    """Up to ten messages from `url`, as the SQS event Lambda would pass the function."""
    arn = queue_arn(queues, url)
    response = queues.sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait,
        VisibilityTimeout=visibility,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )
    return {"Records": [_record(raw, arn) for raw in response.get("Messages", [])]}


def _record(raw: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": raw["MessageId"],
        "receiptHandle": raw["ReceiptHandle"],
        "body": raw["Body"],
        "attributes": raw.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in raw.get("MessageAttributes", {}).items()
        },
        "md5OfBody": raw.get("MD5OfBody"),
        "md5OfMessageAttributes": raw.get("MD5OfMessageAttributes"),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": arn.split(":")[3],
    }


async def invoke(queues: Queues, url: str, event: dict[str, Any], *, context: FakeContext | None = None) -> list[str]:
    """Run the handler on its own thread (it runs its own event loop, as in Lambda) and settle like Lambda.

    Returns the message ids it reported as failed.
    """
    response = await anyio.to_thread.run_sync(lambda_handler, event, context or FakeContext())
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    for record in event["Records"]:
        if record["messageId"] not in failed:
            queues.sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return failed
