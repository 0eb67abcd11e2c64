"""The Lambda handler, fed real SQS events built from messages received from moto.

The test plays the event source mapping (`event_source`): it receives with
every attribute, invokes the handler on its own thread and deletes what the
handler did not report as failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
import pytest

from asyncmcp_cli.client import open_client
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.serverless import handler, lambda_handler
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues, wait_until
from tests.serverless import lambda_app
from tests.serverless.event_source import FakeContext, invoke, receive_event

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


@pytest.fixture
def lambda_env(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The function's environment: the test app, the moto endpoint, replies allowed to this test's queues."""
    monkeypatch.setenv("ASYNCMCP_APP", "tests.serverless.lambda_app:app")
    monkeypatch.setenv(
        "ASYNCMCP_TRANSPORT",
        f"sqs://?endpoint_url={queues.endpoint.url}&region=us-east-1&allow_reply={queues.prefix}*",
    )
    lambda_app.executions.clear()
    lambda_app.slow_seconds = 0.0
    handler.reset()
    yield
    handler.reset()


def send_raw(queues: Queues, body: str | dict[str, Any], **attributes: str) -> None:
    queues.sqs.send_message(
        QueueUrl=queues.request_url,
        MessageBody=body if isinstance(body, str) else json.dumps(body),
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )


def attributes(client_id: str, reply_to: str) -> dict[str, str]:
    return {codec.CLIENT_ID: client_id, codec.REPLY_TO: reply_to}


def tool_call(rid: int, tool: str, text: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": tool, "arguments": {"text": text}, "_meta": ENVELOPE},
    }


def drain(queues: Queues, url: str) -> list[dict[str, Any]]:
    """Every message on `url` (deleted as read)."""
    messages: list[dict[str, Any]] = []
    while True:
        got = queues.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return messages
        for message in got:
            queues.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(got)


def by_id(messages: list[dict[str, Any]]) -> dict[Any, types.JSONRPCMessage]:
    decoded = [codec.decode(m["Body"]) for m in messages]
    return {codec.request_id_of(m): m for m in decoded}


async def next_event(queues: Queues, url: str, *, visibility: int = 30) -> dict[str, Any]:
    """The next non-empty event from `url`, polling until one comes."""
    with anyio.fail_after(30):
        while True:
            event = await anyio.to_thread.run_sync(lambda: receive_event(queues, url, visibility=visibility))
            if event["Records"]:
                return event


async def test_an_sdk_client_call_is_answered_through_the_handler(queues: Queues, lambda_env: None) -> None:
    transport = SqsTransport(endpoint_url=queues.endpoint.url, request_queue=queues.request, reply_queue=queues.reply)
    failures: list[list[str]] = []

    async def event_source_mapping() -> None:
        while True:
            event = await next_event(queues, queues.request_url)
            failures.append(await invoke(queues, queues.request_url, event))

    async with anyio.create_task_group() as tg:
        tg.start_soon(event_source_mapping)
        async with open_client(transport, timeout=30) as client:
            first = await client.call_tool("echo", {"text": "hello"})
            second = await client.call_tool("echo", {"text": "again"})  # a warm invocation, a new event loop
        tg.cancel_scope.cancel()

    assert [first.content[0].text, second.content[0].text] == ["hello", "again"]
    assert failures and all(failed == [] for failed in failures)  # the SDK may list the tools first
    assert lambda_app.executions == {"echo:hello": 1, "echo:again": 1}
    assert queues.counts(queues.request_url) == (0, 0)


async def test_poison_records_are_answered_where_possible_and_dead_lettered_not_retried(
    queues: Queues, lambda_env: None
) -> None:
    dead_letters = queues.create(queues.prefix + "dlq")
    dlq_arn = queues.sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": "3"})
    queues.sqs.set_queue_attributes(QueueUrl=queues.request_url, Attributes={"RedrivePolicy": policy})
    mine = attributes("c1", queues.reply_url)
    send_raw(queues, '{"jsonrpc": "2.0", "id": 1, "method": 42}', **mine)  # not JSON-RPC
    send_raw(queues, tool_call(2, "echo", "elsewhere"), **attributes("c2", "some-other-queue"))  # refused address
    initialize = {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
    send_raw(queues, initialize, **mine)  # the handshake era
    send_raw(queues, tool_call(4, "echo", "fine"), **mine)
    send_raw(queues, tool_call(5, "echo", "mangled"), **mine)
    event: dict[str, Any] = {"Records": []}
    while len(event["Records"]) < 5:
        more = await next_event(queues, queues.request_url)
        event["Records"] += more["Records"]
    mangled = next(r for r in event["Records"] if "mangled" in r["body"])
    mangled["messageAttributes"] = "junk"  # no routing that can be read: dropped into the dead letters
    mangled["attributes"] = None

    failed = await invoke(queues, queues.request_url, event)

    assert failed == []
    await wait_until(lambda: queues.counts(dead_letters)[0] == 4)
    replies = by_id(drain(queues, queues.reply_url))
    assert sorted(replies, key=str) == [1, 3, 4]
    assert replies[1].error.code == types.PARSE_ERROR
    assert replies[3].error.code == types.INVALID_REQUEST
    assert "stateless" in replies[3].error.message
    assert replies[4].result["content"][0]["text"] == "fine"
    assert lambda_app.executions == {"echo:fine": 1}
    sources = {
        m["MessageAttributes"]["asyncmcp-dead-letter-source"]["StringValue"] for m in drain(queues, dead_letters)
    }
    assert sources == {queues.request_url}
    assert queues.counts(queues.request_url) == (0, 0)


async def test_a_request_that_outlasts_the_invocation_is_reported_and_redelivered(
    queues: Queues, lambda_env: None
) -> None:
    mine = attributes("c1", queues.reply_url)
    send_raw(queues, tool_call(1, "slow", "late"), **mine)
    send_raw(queues, tool_call(2, "echo", "quick"), **mine)
    event: dict[str, Any] = {"Records": []}
    while len(event["Records"]) < 2:
        more = await next_event(queues, queues.request_url, visibility=2)
        event["Records"] += more["Records"]
    slow_id = next(r["messageId"] for r in event["Records"] if "late" in r["body"])
    lambda_app.slow_seconds = 60.0

    failed = await invoke(queues, queues.request_url, event, context=FakeContext(seconds_left=7.0))  # 2 s to work

    assert failed == [slow_id]
    assert list(by_id(drain(queues, queues.reply_url))) == [2]
    lambda_app.slow_seconds = 0.0
    again = await next_event(queues, queues.request_url)  # back after its visibility timeout, not deleted
    assert [(r["messageId"], r["attributes"]["ApproximateReceiveCount"]) for r in again["Records"]] == [(slow_id, "2")]
    assert await invoke(queues, queues.request_url, again) == []
    replies = by_id(drain(queues, queues.reply_url))
    assert replies[1].result["content"][0]["text"] == "slow late"
    assert queues.counts(queues.request_url) == (0, 0)


async def test_a_redelivered_record_a_warm_container_answered_is_not_run_again(
    queues: Queues, lambda_env: None
) -> None:
    send_raw(queues, tool_call(1, "echo", "once"), **attributes("c1", queues.reply_url))
    event = await next_event(queues, queues.request_url)

    first = await anyio.to_thread.run_sync(lambda_handler, event, FakeContext())
    second = await anyio.to_thread.run_sync(lambda_handler, event, FakeContext())  # as if the delete had failed

    assert first == second == {"batchItemFailures": []}
    assert lambda_app.executions == {"echo:once": 1}
    replies = [codec.decode(m["Body"]) for m in drain(queues, queues.reply_url)]
    assert [r.result["content"][0]["text"] for r in replies] == ["once", "once"]


def test_the_handler_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASYNCMCP_APP", raising=False)
    handler.reset()
    with pytest.raises(ConfigurationError, match="ASYNCMCP_APP"):
        lambda_handler({"Records": []}, FakeContext())
    monkeypatch.setenv("ASYNCMCP_APP", "tests.serverless.lambda_app:app")
    handler.reset()
    with pytest.raises(ConfigurationError, match="SQS"):
        lambda_handler({"Records": [{"eventSource": "aws:sns"}]}, FakeContext())
    monkeypatch.setenv("ASYNCMCP_TRANSPORT", "sns+sqs://topic")
    handler.reset()
    with pytest.raises(ConfigurationError, match="sqs://"):
        lambda_handler({"Records": []}, FakeContext())
    handler.reset()
