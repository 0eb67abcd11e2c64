"""Delivery guarantees: redeliveries answered from the result cache, dead letters,
large payloads through S3, FIFO queues. Real moto server throughout."""

from __future__ import annotations

import json
import uuid

import anyio
import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.client import open_client
from asyncmcp_cli.delivery.results import SqliteResultStore, open_result_store
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports import memory
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_sqs import sqs_transport

pytestmark = pytest.mark.anyio


def call_body(rid: int, tool: str, arguments: dict) -> str:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    params = {"name": tool, "arguments": arguments, "_meta": meta}
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})


async def test_a_redelivered_request_is_answered_from_the_cache_not_run_again() -> None:
    app = ControlledApp()
    transport = memory.MemoryTransport(f"redeliver-{uuid.uuid4().hex}")
    routing = {codec.CLIENT_ID: "c1", codec.REPLY_TO: "memory:c1"}
    async with running(app, transport), transport.connect(client_id="c1") as (read_stream, _write):
        body = call_body(1, "echo", {"text": "once"})
        answers = []
        for _ in range(2):  # the same channel message, delivered twice
            await memory.inject(transport.name, body, routing, delivery_id="message-1")
            with anyio.fail_after(10):
                answers.append(await read_stream.receive())
    assert app.executions["echo:once"] == 1
    assert [codec.request_id_of(a.message) for a in answers] == [1, 1]
    assert answers[0].message == answers[1].message


async def test_a_duplicate_of_a_running_request_is_not_started_again() -> None:
    app = ControlledApp()
    transport = memory.MemoryTransport(f"dup-{uuid.uuid4().hex}")
    routing = {codec.CLIENT_ID: "c1", codec.REPLY_TO: "memory:c1"}
    async with running(app, transport), transport.connect(client_id="c1") as (read_stream, _write):
        body = call_body(5, "wait_for_gate", {"tag": "dup"})
        await memory.inject(transport.name, body, routing, delivery_id="m-5")
        await app.started.wait()
        await memory.inject(transport.name, body, routing, delivery_id="m-5")
        app.gate.set()
        with anyio.fail_after(10):
            answer = await read_stream.receive()
    assert codec.request_id_of(answer.message) == 5
    assert app.executions["gate:dup"] == 1


async def test_sqlite_store_survives_a_reopen(tmp_path) -> None:
    path = tmp_path / "results.db"
    store = open_result_store(f"sqlite:///{path}")
    assert isinstance(store, SqliteResultStore)
    await store.put("message-1", '{"jsonrpc":"2.0","id":1,"result":{}}')
    reopened = open_result_store(f"sqlite:///{path}")
    assert await reopened.get("message-1") == '{"jsonrpc":"2.0","id":1,"result":{}}'
    assert await reopened.get("message-2") is None


def queue_with_dead_letters(queues: Queues, max_receive_count: int = 3) -> tuple[str, str]:
    dlq_url = queues.create(queues.prefix + "dlq")
    arn = queues.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive_count)})
    queues.sqs.set_queue_attributes(QueueUrl=queues.request_url, Attributes={"RedrivePolicy": policy})
    return dlq_url, arn


def messages_on(queues: Queues, url: str) -> list[dict]:
    return queues.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])


async def test_a_poison_message_goes_to_the_dead_letter_queue_at_once(queues: Queues) -> None:
    dlq_url, _ = queue_with_dead_letters(queues)
    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport):
        queues.sqs.send_message(QueueUrl=queues.request_url, MessageBody="<<not json, no routing>>")
        await wait_until(lambda: messages_on(queues, dlq_url))
        [dead] = messages_on(queues, dlq_url)
        assert dead["Body"] == "<<not json, no routing>>"
        assert dead["MessageAttributes"]["asyncmcp-dead-letter-source"]["StringValue"] == queues.request_url
        async with open_client(transport, timeout=20) as client:  # still serving
            assert (await client.call_tool("echo", {"text": "ok"})).content[0].text == "ok"
    assert queues.counts(queues.request_url) == (0, 0)


async def test_a_request_that_keeps_failing_is_answered_with_an_error_and_dead_lettered(queues: Queues) -> None:
    dlq_url, _ = queue_with_dead_letters(queues, max_receive_count=3)
    attributes = {
        codec.CLIENT_ID: {"DataType": "String", "StringValue": "c9"},
        codec.REPLY_TO: {"DataType": "String", "StringValue": queues.reply_url},
    }
    queues.sqs.send_message(
        QueueUrl=queues.request_url, MessageBody=call_body(9, "echo", {"text": "x"}), MessageAttributes=attributes
    )
    for _ in range(2):  # two earlier attempts that "crashed" before answering
        assert queues.sqs.receive_message(QueueUrl=queues.request_url, VisibilityTimeout=0).get("Messages")
    app = ControlledApp()
    async with running(app, sqs_transport(queues)):
        await wait_until(lambda: messages_on(queues, dlq_url))
        await wait_until(lambda: messages_on(queues, queues.reply_url))
        [reply] = messages_on(queues, queues.reply_url)
    error = json.loads(reply["Body"])
    assert error["id"] == 9 and "failed 3 times" in error["error"]["message"]
    assert app.executions["echo:x"] == 0


async def test_large_payloads_travel_through_s3_and_are_cleaned_up(queues: Queues) -> None:
    bucket = f"asyncmcp-payloads-{uuid.uuid4().hex[:8]}"
    s3 = aws.client("s3", queues.endpoint.settings)
    s3.create_bucket(Bucket=bucket)
    app = ControlledApp()
    transport = sqs_transport(queues, payload_bucket=bucket)
    big_text = "y" * 300_000
    async with running(app, transport), open_client(transport, timeout=30) as client:
        result = await client.call_tool("big", {"size": 400_000})
        assert result.content[0].text == "x" * 400_000
        echoed = await client.call_tool("echo", {"text": big_text})  # a large request too
        assert echoed.content[0].text == big_text
        await wait_until(lambda: s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0)


async def test_without_a_bucket_a_large_request_is_a_clear_error(queues: Queues) -> None:
    from mcp.shared.exceptions import MCPError

    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport), open_client(transport, timeout=20) as client:
        with pytest.raises(MCPError, match="262144-byte limit"):
            await client.call_tool("echo", {"text": "z" * 300_000})


async def test_fifo_queues_keep_each_client_in_order(queues: Queues) -> None:
    request = queues.create(queues.prefix + "requests.fifo", FifoQueue="true")
    reply = queues.create(queues.prefix + "replies.fifo", FifoQueue="true")
    app = ControlledApp()
    transport = SqsTransport(
        endpoint_url=queues.endpoint.url, request_queue=request, reply_queue=reply, allow_reply=(queues.prefix + "*",)
    )
    seen: dict[str, list[str]] = {"a": [], "b": []}
    async with running(app, transport):

        async def session(name: str) -> None:
            async with open_client(transport, client_id=name, timeout=20) as client:
                for i in range(4):
                    seen[name].append((await client.call_tool("echo", {"text": f"{name}{i}"})).content[0].text)

        async with anyio.create_task_group() as tg:
            tg.start_soon(session, "a")
            tg.start_soon(session, "b")
    assert seen == {"a": ["a0", "a1", "a2", "a3"], "b": ["b0", "b1", "b2", "b3"]}


async def test_fifo_calls_with_default_long_polls_are_answered_at_once(queues: Queues) -> None:
    """Each call within a few seconds, not after a 20 s long poll (moto used to keep a group busy that long)."""
    request = queues.create(queues.prefix + "requests.fifo", FifoQueue="true")
    reply = queues.create(queues.prefix + "replies.fifo", FifoQueue="true")
    transport = SqsTransport(
        endpoint_url=queues.endpoint.url, request_queue=request, reply_queue=reply, allow_reply=(queues.prefix + "*",)
    )
    assert transport.options.wait_seconds == 20
    async with running(ControlledApp(), transport), open_client(transport, timeout=60) as client:
        for n in range(4):
            with anyio.fail_after(5):
                assert (await client.call_tool("echo", {"text": f"f{n}"})).content[0].text == f"f{n}"


async def test_the_s3_store_is_shared_by_separate_stores_and_honours_its_ttl(queues: Queues) -> None:
    bucket = f"asyncmcp-results-{uuid.uuid4().hex[:8]}"
    aws.client("s3", queues.endpoint.settings).create_bucket(Bucket=bucket)
    writer = open_result_store(f"s3://{bucket}", settings=queues.endpoint.settings)
    reader = open_result_store(f"s3://{bucket}/", settings=queues.endpoint.settings)  # as another machine would
    await writer.put("message-1", '{"jsonrpc":"2.0","id":1,"result":{}}')
    assert await reader.get("message-1") == '{"jsonrpc":"2.0","id":1,"result":{}}'
    assert await reader.get("message-2") is None
    expired = open_result_store(f"s3://{bucket}/short", ttl_seconds=-1, settings=queues.endpoint.settings)
    await expired.put("message-3", "{}")
    assert await expired.get("message-3") is None
    keys = {o["Key"] for o in aws.client("s3", queues.endpoint.settings).list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"asyncmcp/results/message-1", "short/message-3"}


async def test_with_an_s3_result_cache_each_response_is_stored_under_its_message_id(queues: Queues) -> None:
    bucket = f"asyncmcp-results-{uuid.uuid4().hex[:8]}"
    s3 = aws.client("s3", queues.endpoint.settings)
    s3.create_bucket(Bucket=bucket)
    app = ControlledApp()
    server = sqs_transport(queues, result_cache=f"s3://{bucket}")
    async with running(app, server), open_client(sqs_transport(queues), timeout=30) as client:
        result = await client.call_tool("echo", {"text": "kept"})
    assert result.content[0].text == "kept"
    stored = s3.list_objects_v2(Bucket=bucket, Prefix="asyncmcp/results/")["Contents"]
    bodies = [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in stored]
    assert all(b["jsonrpc"] == "2.0" and "id" in b for b in bodies)  # one response per request (tools/list too)
    echoed = [b for b in bodies if b.get("result", {}).get("content", [{}])[0].get("text") == "kept"]
    assert len(echoed) == 1


async def test_an_unreachable_result_cache_does_not_stop_calls(queues: Queues) -> None:
    app = ControlledApp()
    missing = f"s3://asyncmcp-no-such-bucket-{uuid.uuid4().hex[:8]}"
    server = sqs_transport(queues, result_cache=missing)
    async with running(app, server), open_client(sqs_transport(queues), timeout=30) as client:
        result = await client.call_tool("echo", {"text": "still answered"})
    assert result.content[0].text == "still answered"
    assert app.executions["echo:still answered"] == 1


def test_result_cache_specs_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="needs a bucket"):
        open_result_store("s3:///prefix")
    with pytest.raises(ConfigurationError, match="s3://BUCKET/PREFIX"):
        open_result_store("redis://somewhere")
