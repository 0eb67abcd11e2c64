"""The SQS transport against a real moto server: the contract, then SQS's own promises."""

from __future__ import annotations

import json
import logging

import anyio
import pytest

from asyncmcp_cli.client import open_client
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import TransportContract, running

pytestmark = pytest.mark.anyio


def sqs_transport(queues: Queues, **options: object) -> SqsTransport:
    return SqsTransport(
        endpoint_url=queues.endpoint.url,
        request_queue=queues.request,
        reply_queue=queues.reply,
        allow_reply=(queues.prefix + "*",),
        **options,
    )


class TestSqsContract(TransportContract):
    @pytest.fixture
    def transport(self, queues: Queues) -> SqsTransport:
        self.queues = queues
        return sqs_transport(queues)

    async def inject_reply(self, transport: Transport, client_id: str, body: str) -> None:
        self.queues.sqs.send_message(
            QueueUrl=self.queues.reply_url,
            MessageBody=body,
            MessageAttributes={codec.CLIENT_ID: {"DataType": "String", "StringValue": client_id}},
        )


def raw_request(queues: Queues, body: str, **attributes: str) -> None:
    """Put a message on the request queue the way a foreign client would."""
    queues.sqs.send_message(
        QueueUrl=queues.request_url,
        MessageBody=body,
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )


def receive_all(queues: Queues, url: str) -> list[dict]:
    return queues.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    )


CALL = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/list",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        },
    }
)


async def test_request_is_deleted_only_after_its_response_is_sent(queues: Queues) -> None:
    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport), open_client(transport, timeout=20) as client, anyio.create_task_group() as tg:
        tg.start_soon(client.call_tool, "wait_for_gate", {"tag": "held"})
        await app.started.wait()
        assert queues.counts(queues.request_url) == (0, 1)  # received, running, not deleted
        app.gate.set()
    await wait_until(lambda: queues.counts(queues.request_url) == (0, 0))


async def test_visibility_heartbeat_keeps_a_long_call_from_being_redelivered(queues: Queues) -> None:
    app = ControlledApp()
    transport = sqs_transport(queues, visibility_timeout=2)
    async with running(app, transport), open_client(transport, timeout=20) as client, anyio.create_task_group() as tg:
        tg.start_soon(client.call_tool, "wait_for_gate", {"tag": "long"})
        await app.started.wait()
        await anyio.sleep(5)  # the point of the test: outlive the 2 s visibility timeout twice over
        assert queues.counts(queues.request_url) == (0, 1)
        app.gate.set()
    assert app.executions["gate:long"] == 1


async def test_refused_reply_address_gets_nothing_and_is_logged(
    queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    app = ControlledApp()
    outsider = queues.create("elsewhere-" + queues.prefix.strip("-"))
    caplog.set_level(logging.WARNING)
    async with running(app, sqs_transport(queues)):
        raw_request(queues, CALL, **{codec.CLIENT_ID: "c1", codec.REPLY_TO: outsider})
        await wait_until(lambda: queues.counts(queues.request_url) == (0, 0))
    assert receive_all(queues, outsider) == []
    assert any("refusing reply address" in r.getMessage() for r in caplog.records)


async def test_bad_input_is_answered_when_the_sender_is_known_and_the_server_keeps_serving(queues: Queues) -> None:
    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport):
        raw_request(queues, "{not json", **{codec.CLIENT_ID: "c1", codec.REPLY_TO: queues.reply_url})
        raw_request(
            queues, json.dumps({"id": 3, "hello": "world"}), **{codec.CLIENT_ID: "c1", codec.REPLY_TO: queues.reply_url}
        )
        raw_request(queues, "no routing at all")
        raw_request(queues, CALL, **{codec.CLIENT_ID: "c1"})  # no reply address
        errors: list[dict] = []

        def collect() -> bool:
            for message in receive_all(queues, queues.reply_url):
                errors.append(json.loads(message["Body"]))
                queues.sqs.delete_message(QueueUrl=queues.reply_url, ReceiptHandle=message["ReceiptHandle"])
            return len(errors) >= 2

        await wait_until(collect)
        assert sorted(e["error"]["code"] for e in errors) == [-32700, -32700]
        assert {e["id"] for e in errors} == {None, 3}
        await wait_until(lambda: queues.counts(queues.request_url) == (0, 0))
        async with open_client(transport, timeout=20) as client:
            assert (await client.call_tool("echo", {"text": "still up"})).content[0].text == "still up"


async def test_graceful_shutdown_leaves_unfinished_requests_for_redelivery(queues: Queues) -> None:
    app = ControlledApp()
    transport = sqs_transport(queues)
    shutdown, ready = anyio.Event(), anyio.Event()
    unfinished: list[int] = []
    async with anyio.create_task_group() as tg:

        async def run_server() -> None:
            unfinished.append(
                await serve(app.lowlevel, transport, shutdown=shutdown, grace_seconds=0.5, on_ready=ready.set)
            )

        tg.start_soon(run_server)
        await ready.wait()
        async with transport.connect(client_id="leaver") as (_read, write):
            from mcp.shared.message import SessionMessage

            request = codec.decode(
                CALL.replace('"tools/list"', '"tools/call"').replace(
                    '"params": {', '"params": {"name": "wait_for_gate", "arguments": {}, '
                )
            )
            await write.send(SessionMessage(request))
            await app.started.wait()
        shutdown.set()
    assert unfinished == [1]
    await wait_until(lambda: queues.counts(queues.request_url) == (1, 0))  # visible again for another server


async def test_client_ignores_responses_it_is_not_waiting_for(queues: Queues) -> None:
    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport), open_client(transport, client_id="me", timeout=20) as client:
        stale = json.dumps({"jsonrpc": "2.0", "id": 999, "result": {"content": []}})
        queues.sqs.send_message(
            QueueUrl=queues.reply_url,
            MessageBody=stale,
            MessageAttributes={codec.CLIENT_ID: {"DataType": "String", "StringValue": "me"}},
        )
        result = await client.call_tool("echo", {"text": "fresh"})
        assert result.content[0].text == "fresh"
        await wait_until(lambda: queues.counts(queues.reply_url) == (0, 0))


async def test_a_missing_request_queue_is_a_clear_error(queues: Queues) -> None:
    from asyncmcp_cli.errors import QueueNotFoundError

    transport = SqsTransport(endpoint_url=queues.endpoint.url, request_queue="asyncmcp-no-such-queue")
    with pytest.raises(QueueNotFoundError, match="asyncmcp-no-such-queue"):
        async with transport.connect():
            pass


async def test_an_oversize_response_becomes_a_json_rpc_error(queues: Queues) -> None:
    from mcp.shared.exceptions import MCPError

    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport), open_client(transport, timeout=20) as client:
        with pytest.raises(MCPError, match="exceeds"):
            await client.call_tool("big", {"size": 300_000})
        assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"


async def test_max_in_flight_stops_receiving_until_a_request_finishes(queues: Queues) -> None:
    app = ControlledApp()
    transport = sqs_transport(queues, max_in_flight=2)
    async with running(app, transport), open_client(transport, timeout=20) as client, anyio.create_task_group() as tg:
        for tag in "abcd":
            tg.start_soon(client.call_tool, "wait_for_gate", {"tag": tag})
        await wait_until(lambda: sum(app.executions.values()) == 2)
        await wait_until(lambda: queues.counts(queues.request_url) == (2, 2))  # two waiting, two running
        assert sum(app.executions.values()) == 2
        app.gate.set()
    assert sum(app.executions.values()) == 4


@pytest.mark.parametrize("era", ["stateless", "handshake"])
async def test_a_cancelled_request_is_settled_not_run_again(queues: Queues, era: str) -> None:
    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport), open_client(transport, era=era, timeout=20) as client:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, "wait_for_gate", {"tag": "cancelled"})
                await app.started.wait()
                scope.cancel()  # the SDK tells the server (notifications/cancelled)
        await wait_until(lambda: queues.counts(queues.request_url) == (0, 0))
        assert (await client.call_tool("echo", {"text": "next"})).content[0].text == "next"
    assert app.executions["gate:cancelled"] == 1
