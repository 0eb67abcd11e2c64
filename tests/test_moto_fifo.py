"""The embedded endpoint's moto frees a FIFO message group when its message is deleted, as SQS does."""

from __future__ import annotations

import threading
import uuid

import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws import moto_fifo
from asyncmcp_cli.aws.local_aws import LocalEndpoint


@pytest.mark.timeout(120)
def test_a_long_poll_already_waiting_gets_the_next_message_of_a_group_freed_by_a_delete(moto: LocalEndpoint) -> None:
    sqs = aws.client("sqs", moto.settings)
    url = sqs.create_queue(QueueName=f"asyncmcp-g{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]

    def send(body: str) -> None:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="client-1", MessageDeduplicationId=body)

    send("first")
    first = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]  # its group is now busy
    got: list[dict] = []
    poll = threading.Thread(target=lambda: got.append(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)))
    poll.start()  # starts while "first" is in flight, as a server's next poll does
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    send("second")
    poll.join(timeout=5)  # unpatched moto keeps the group busy for the poll's whole 20 s
    assert not poll.is_alive(), "the waiting poll did not see the freed group"
    assert [m["Body"] for m in got[0]["Messages"]] == ["second"]


def test_apply_is_idempotent_and_reports_it_is_in_effect() -> None:
    assert moto_fifo.apply() is True
    assert moto_fifo.apply() is True
