"""Fire now, collect later, against a real moto server and the SDK's server."""

from __future__ import annotations

import datetime
import time

import anyio
import mcp_types as types
import pytest
from mcp_types import PROTOCOL_VERSION_META_KEY

from asyncmcp_cli.delivery import reply_expiry
from asyncmcp_cli.delivery.deferred import collect, fire, sdk_request
from asyncmcp_cli.delivery.receipts import Receipt
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.memory import MemoryTransport
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_sqs import sqs_transport

pytestmark = pytest.mark.anyio


def echo(text: str):
    return lambda client: client.call_tool("echo", {"text": text})


def put_reply(queues: Queues, client_id: str, body: str) -> None:
    """A message on the reply queue as a server would send it to `client_id`."""
    queues.sqs.send_message(
        QueueUrl=queues.reply_url,
        MessageBody=body,
        MessageAttributes={codec.CLIENT_ID: {"DataType": "String", "StringValue": client_id}},
    )


def response(request_id: str, text: str) -> str:
    result = {"content": [{"type": "text", "text": text}], "isError": False}
    return codec.encode(types.JSONRPCResponse(jsonrpc="2.0", id=request_id, result=result))


async def test_the_request_is_the_sdks_own_stateless_request() -> None:
    request = await sdk_request(echo("hi"))
    assert request.method == "tools/call"
    assert request.params is not None
    assert request.params["arguments"] == {"text": "hi"}
    assert PROTOCOL_VERSION_META_KEY in request.params["_meta"]
    assert request.params["_meta"]["io.modelcontextprotocol/clientInfo"]["name"] == "asyncmcp"


async def test_fire_then_start_the_server_then_collect(queues: Queues) -> None:
    transport = sqs_transport(queues, wait_seconds=1)
    receipt = await fire(transport, echo("later"), name="echo")
    assert receipt.reply_queue == queues.reply_url
    assert queues.counts(queues.request_url)[0] == 1  # waiting for a server

    assert (await collect(receipt)).replies == []  # no server yet: not answered

    app = ControlledApp()
    async with running(app, transport):
        collected = await collect(receipt, wait=20)
    [reply] = collected.replies
    assert reply.error is None
    assert reply.result["content"][0]["text"] == "later"
    assert app.executions["echo:later"] == 1
    assert (await collect(receipt)).replies == []  # collected once: it is gone


async def test_two_requests_under_one_client_id_are_collected_separately(queues: Queues) -> None:
    transport = sqs_transport(queues, wait_seconds=1)
    first = await fire(transport, echo("one"), client_id="shared-client")
    second = await fire(transport, echo("two"), client_id="shared-client")
    assert first.request_id != second.request_id
    async with running(ControlledApp(), transport):
        await wait_until(lambda: queues.counts(queues.reply_url)[0] == 2, within=20)
    [reply] = (await collect(second)).replies
    assert reply.result["content"][0]["text"] == "two"
    [reply] = (await collect(first)).replies
    assert reply.result["content"][0]["text"] == "one"


async def test_other_clients_messages_are_left_visible(queues: Queues) -> None:
    receipt = Receipt("sqs", queues.reply_url, "me", "r1", endpoint=queues.endpoint.url)
    put_reply(queues, "someone-else", response("r1", "not yours"))
    put_reply(queues, "me", response("r2", "my other request"))

    assert (await collect(receipt)).replies == []
    assert queues.counts(queues.reply_url) == (2, 0)  # both handed back at once, for their owners

    put_reply(queues, "me", response("r1", "mine"))
    [reply] = (await collect(receipt)).replies
    assert reply.result["content"][0]["text"] == "mine"
    assert queues.counts(queues.reply_url) == (2, 0)


async def test_keep_leaves_the_answer_for_a_later_collect(queues: Queues) -> None:
    receipt = Receipt("sqs", queues.reply, "me", "r1", endpoint=queues.endpoint.url)
    put_reply(queues, "me", response("r1", "kept"))
    assert len((await collect(receipt, keep=True)).replies) == 1
    assert queues.counts(queues.reply_url) == (1, 0)
    assert len((await collect(receipt)).replies) == 1
    assert queues.counts(queues.reply_url) == (0, 0)


async def test_duplicates_of_the_answer_are_consumed_with_it(queues: Queues) -> None:
    receipt = Receipt("sqs", queues.reply_url, "me", "r1", endpoint=queues.endpoint.url)
    put_reply(queues, "me", response("r1", "once"))
    put_reply(queues, "me", response("r1", "once"))
    collected = await collect(receipt)
    assert [r.result["content"][0]["text"] for r in collected.replies] == ["once"]
    await wait_until(lambda: queues.counts(queues.reply_url) == (0, 0))


async def test_collecting_by_client_id_takes_every_answer_for_it(queues: Queues) -> None:
    put_reply(queues, "me", response("r1", "a"))
    put_reply(queues, "me", response("r2", "b"))
    put_reply(queues, "me", codec.encode(types.JSONRPCNotification(jsonrpc="2.0", method="notifications/message")))
    collected = await collect(Receipt("sqs", queues.reply_url, "me", None, endpoint=queues.endpoint.url))
    assert sorted(r.result["content"][0]["text"] for r in collected.replies) == ["a", "b"]
    assert [n.method for n in collected.notifications] == ["notifications/message"]


async def test_waiting_returns_as_soon_as_the_answer_arrives(queues: Queues) -> None:
    receipt = Receipt("sqs", queues.reply_url, "me", "r1", endpoint=queues.endpoint.url)

    async def answer_soon() -> None:
        await wait_until(lambda: queues.counts(queues.reply_url) == (0, 0))
        put_reply(queues, "me", response("r1", "arrived"))

    with anyio.fail_after(15):
        async with anyio.create_task_group() as tg:
            tg.start_soon(answer_soon)
            collected = await collect(receipt, wait=30)
    assert collected.replies[0].result["content"][0]["text"] == "arrived"


async def test_an_error_answer_is_reported_as_such(queues: Queues) -> None:
    receipt = Receipt("sqs", queues.reply_url, "me", "r1", endpoint=queues.endpoint.url)
    put_reply(queues, "me", codec.encode(codec.error_reply("r1", types.INVALID_PARAMS, "bad arguments")))
    [reply] = (await collect(receipt)).replies
    assert reply.error is not None
    assert reply.error.message == "bad arguments"


async def test_only_queue_transports_can_fire() -> None:
    with pytest.raises(ConfigurationError, match="needs a queue transport"):
        await fire(MemoryTransport("deferred-test"), echo("x"))


async def test_a_fired_answer_is_kept_as_long_as_the_request_asked(queues: Queues) -> None:
    transport = sqs_transport(queues, wait_seconds=1)
    receipt = await fire(transport, echo("kept"), keep_for=600)
    assert receipt.keep_for == 600 and Receipt.parse(receipt.encode()).keep_for == 600
    before = time.time()
    async with running(ControlledApp(), transport):
        await wait_until(lambda: queues.counts(queues.reply_url)[0] == 1, within=20)
    (message,) = queues.sqs.receive_message(QueueUrl=queues.reply_url, MessageAttributeNames=["All"])["Messages"]
    expires = float(message["MessageAttributes"][reply_expiry.EXPIRES_AT]["StringValue"])
    assert before + 599 <= expires <= time.time() + 601


async def test_collect_deletes_other_clients_expired_answers_and_says_when_its_own_has_expired(
    queues: Queues,
) -> None:
    expired = {reply_expiry.EXPIRES_AT: {"DataType": "String", "StringValue": str(int(time.time()) - 1)}}
    for owner in ("gone", "me"):
        queues.sqs.send_message(
            QueueUrl=queues.reply_url,
            MessageBody=response("r0", "stale"),
            MessageAttributes={codec.CLIENT_ID: {"DataType": "String", "StringValue": owner}} | expired,
        )
    an_hour_ago = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).isoformat()
    lapsed = Receipt(
        "sqs", queues.reply_url, "me", "r1", endpoint=queues.endpoint.url, sent_at=an_hour_ago, keep_for=60
    )
    collected = await collect(lapsed)
    assert (collected.replies, collected.expired) == ([], True)
    assert queues.counts(queues.reply_url) == (
        1,
        0,
    )  # the other client's expired answer is gone; ours-but-other-id stays
    recent = Receipt(
        "sqs", queues.reply_url, "me", "r1", endpoint=queues.endpoint.url, sent_at=an_hour_ago, keep_for=7200
    )
    assert (await collect(recent)).expired is False
