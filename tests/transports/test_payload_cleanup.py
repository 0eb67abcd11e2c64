"""Large payloads leave nothing behind: once a claim-checked message is settled, its S3 object is gone.

Both directions (a large request, a large response), over `sqs` and `sns+sqs`, with the client
closing as soon as it has its answer (as `asyncmcp connect call` does); and fire-and-collect,
where the answer's object must survive until it is collected.
"""

from __future__ import annotations

import uuid

import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.client import open_client
from asyncmcp_cli.delivery.deferred import collect, fire
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_sns import provisioned

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

BIG = 300 * 1024


def objects(endpoint: LocalEndpoint, bucket: str) -> list[str]:
    listed = aws.client("s3", endpoint.settings).list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def sqs_with_bucket(queues: Queues) -> tuple[SqsTransport, str]:
    bucket = f"asyncmcp-payloads-{uuid.uuid4().hex[:8]}"
    aws.client("s3", queues.endpoint.settings).create_bucket(Bucket=bucket)
    transport = SqsTransport(
        endpoint_url=queues.endpoint.url,
        request_queue=queues.request,
        reply_queue=queues.reply,
        allow_reply=(queues.prefix + "*",),
        payload_bucket=bucket,
        wait_seconds=1,
    )
    return transport, bucket


async def large_echo_then_close(transport: Transport, endpoint: LocalEndpoint, bucket: str) -> None:
    text = "e" * BIG
    async with running(ControlledApp(), transport):
        async with open_client(transport, timeout=30) as client:  # closes the moment it has its answer
            assert (await client.call_tool("echo", {"text": text})).content[0].text == text
        async with open_client(transport, timeout=30) as client:
            assert len((await client.call_tool("big", {"size": BIG})).content[0].text) == BIG
        await wait_until(lambda: not objects(endpoint, bucket), within=20)


async def test_large_requests_and_responses_leave_the_bucket_empty_over_sqs(queues: Queues) -> None:
    transport, bucket = sqs_with_bucket(queues)
    await large_echo_then_close(transport, queues.endpoint, bucket)


async def test_large_requests_and_responses_leave_the_bucket_empty_over_sns_sqs(moto: LocalEndpoint) -> None:
    setup = provisioned(moto, bucket=True)
    bucket = setup.result.outcome.bucket
    assert bucket is not None
    await large_echo_then_close(setup.transport(payload_bucket=bucket), moto, bucket)


async def test_a_fired_large_answer_keeps_its_object_until_it_is_collected(queues: Queues) -> None:
    transport, bucket = sqs_with_bucket(queues)
    text = "f" * BIG
    receipt = await fire(transport, lambda c: c.call_tool("echo", {"text": text}))
    [request_object] = objects(queues.endpoint, bucket)  # the large request waits in S3 for a server
    async with running(ControlledApp(), transport):
        kept = await collect(receipt, wait=30, keep=True, payload_bucket=bucket)
        assert kept.replies and kept.replies[0].result["content"][0]["text"] == text
        await wait_until(lambda: request_object not in objects(queues.endpoint, bucket))  # settled
        assert len(objects(queues.endpoint, bucket)) == 1  # the answer's object, kept with the answer
        collected = await collect(receipt, wait=30, payload_bucket=bucket)
    assert collected.replies[0].result["content"][0]["text"] == text
    assert objects(queues.endpoint, bucket) == []
