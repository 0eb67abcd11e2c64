"""The webhook transport against real uvicorn servers on 127.0.0.1: the contract, then webhook promises."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

from asyncmcp_cli.client import open_client
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.registry import resolve
from asyncmcp_cli.transports.webhook.asgi import guarded
from asyncmcp_cli.transports.webhook.client import WebhookClient
from asyncmcp_cli.transports.webhook.deadletter import DeadLetterFile
from asyncmcp_cli.transports.webhook.receiver import receiver_app
from asyncmcp_cli.transports.webhook.serving import serve_asgi
from asyncmcp_cli.transports.webhook.signing import Signer, Verifier, generate_secret, new_message_id
from asyncmcp_cli.transports.webhook.transport import WebhookTransport
from asyncmcp_cli.types import TransportStreams
from tests.conftest import wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import TransportContract, running
from tests.transports.webhook_support import (
    MODERN,
    OTHER_SECRET,
    SECRET,
    ScriptedReceiver,
    loopback_options,
    post_signed,
    reserve_port,
    tool_call,
)

pytestmark = pytest.mark.anyio


def webhook_transport(tmp_path: Path, **options: object) -> WebhookTransport:
    return WebhookTransport(**(loopback_options(tmp_path) | options))


class TestWebhookContract(TransportContract):
    @pytest.fixture
    def transport(self, tmp_path: Path) -> WebhookTransport:
        return webhook_transport(tmp_path)

    async def inject_reply(self, transport: Transport, client_id: str, body: str) -> None:
        assert isinstance(transport, WebhookTransport)
        response = await post_signed(transport.receivers[client_id], body)
        assert response.status_code == 202


def notification(text: str) -> str:
    return json.dumps({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": text}})


async def next_text(read_stream) -> str:
    with anyio.fail_after(10):
        item = await read_stream.receive()
    assert isinstance(item, SessionMessage)
    return item.message.params["data"]


@pytest.mark.faults
async def test_forged_stale_replayed_and_unsigned_webhooks_never_reach_the_session(tmp_path: Path) -> None:
    transport = webhook_transport(tmp_path)
    async with transport.connect(client_id="guarded") as (read_stream, _write_stream):
        url = transport.receivers["guarded"]
        async with httpx2.AsyncClient() as raw:
            unsigned = await raw.post(url, content=notification("unsigned").encode())
        forged = await post_signed(url, notification("forged"), secret=OTHER_SECRET)
        stale_body = notification("stale")
        old = datetime.now(tz=timezone.utc) - timedelta(minutes=6)
        stale_headers = Signer([SECRET]).headers(stale_body, message_id=new_message_id(), now=old)
        async with httpx2.AsyncClient() as raw:
            stale = await raw.post(url, content=stale_body.encode(), headers=stale_headers)
        assert (unsigned.status_code, forged.status_code, stale.status_code) == (401, 401, 401)

        first = await post_signed(url, notification("genuine"), message_id="msg_once")
        assert first.status_code == 202
        assert await next_text(read_stream) == "genuine"  # nothing refused got in ahead of it

        replayed = await post_signed(url, notification("replayed"), message_id="msg_once")
        assert replayed.status_code == 409
        await post_signed(url, notification("second genuine"))
        assert await next_text(read_stream) == "second genuine"  # the replay did not get in either


@asynccontextmanager
async def client_streams(client: WebhookClient, reply_url: str) -> AsyncIterator[TransportStreams]:
    async with client.running(reply_url) as streams:
        yield streams


@pytest.mark.faults
async def test_a_receiver_down_for_a_while_gets_every_response_when_it_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = ControlledApp()
    transport = webhook_transport(tmp_path, delivery_attempts=30)
    port = reserve_port()
    reply_url = f"http://127.0.0.1:{port}/webhook"
    caplog.set_level(logging.DEBUG, logger="asyncmcp_cli.transports.webhook.delivery")
    async with running(app, transport), httpx2.AsyncClient() as http:
        client = WebhookClient(http, server_url=transport.server_url, client_id="comes-back")
        receiver = receiver_app(Verifier([SECRET]), client.accept)
        async with Client(client_streams(client, reply_url), mode=MODERN, read_timeout_seconds=30) as session:
            async with serve_asgi(receiver, "127.0.0.1", port):
                assert (await session.call_tool("echo", {"text": "while up"})).content[0].text == "while up"
            # the receiver is down: these calls run, and their answers cannot be delivered yet
            answers: dict[int, str] = {}
            all_answered = anyio.Event()

            async def call(n: int) -> None:
                answers[n] = (await session.call_tool("echo", {"text": f"n{n}"})).content[0].text
                if len(answers) == 5:
                    all_answered.set()

            async with anyio.create_task_group() as tg:
                for n in range(5):
                    tg.start_soon(call, n)
                await wait_until(lambda: sum("failed" in r.getMessage() for r in caplog.records) >= 5)
                assert answers == {}
                async with serve_asgi(receiver, "127.0.0.1", port):  # back, on the same port
                    with anyio.fail_after(20):
                        await all_answered.wait()
    assert answers == {n: f"n{n}" for n in range(5)}
    assert app.executions["echo:n0"] == 1
    assert DeadLetterFile(tmp_path / "dead-letter.jsonl").read() == []


async def test_a_refused_webhook_url_gets_a_jsonrpc_error_and_no_post(tmp_path: Path) -> None:
    app = ControlledApp()
    transport = webhook_transport(tmp_path, allow_webhook=("http://127.0.0.1:1/*",))
    receiver = ScriptedReceiver()
    async with running(app, transport), receiver.running() as bound, httpx2.AsyncClient() as http:
        request = tool_call("echo", {"text": "x"}, rid=5)
        headers = {"content-type": "application/json", codec.CLIENT_ID: "c", codec.REPLY_TO: bound.url("/webhook")}
        response = await http.post(transport.server_url, content=json.dumps(request), headers=headers)
        assert response.status_code == 403
        error = response.json()
        assert error["id"] == 5
        assert "allow-list" in error["error"]["message"]
        async with open_client(transport, timeout=10) as client:  # an SDK client gets it as the request's error
            with pytest.raises(MCPError, match="allow-list"):
                await client.call_tool("echo", {"text": "x"})
    assert receiver.arrivals == []
    assert app.executions["echo:x"] == 0


async def test_loopback_webhooks_are_refused_unless_named_literally(tmp_path: Path) -> None:
    for allow in (("https://*",), ("http://*:*",)):
        transport = webhook_transport(tmp_path, allow_webhook=allow)
        async with running(ControlledApp(), transport), open_client(transport, timeout=10) as client:
            with pytest.raises(MCPError, match=r"allow-list|loopback"):
                await client.call_tool("echo", {"text": "x"})


@pytest.mark.faults
async def test_bad_requests_get_clear_4xx_answers_and_the_server_keeps_serving(tmp_path: Path) -> None:
    transport = webhook_transport(tmp_path, max_body_bytes=2000)
    routing = {codec.CLIENT_ID: "c", codec.REPLY_TO: "http://127.0.0.1:9/webhook"}
    json_type = {"content-type": "application/json"}
    async with running(ControlledApp(), transport), httpx2.AsyncClient() as http:
        url = transport.server_url
        not_json = await http.post(url, content=b'{"id": 3, oops', headers=json_type | routing)
        wrong_type = await http.post(url, content=b"{}", headers={"content-type": "text/plain"} | routing)
        oversize = await http.post(url, content=b"x" * 5000, headers=json_type | routing)
        body = json.dumps(tool_call("echo", {"text": "x"}))
        unrouted = await http.post(url, content=body, headers=json_type)
        wrong_method = await http.get(url)
        rebound = await http.post(url, content=body, headers=json_type | routing | {"host": "evil.example:80"})
        assert [r.status_code for r in (not_json, wrong_type, oversize, unrouted, wrong_method, rebound)] == [
            400,
            415,
            413,
            400,
            405,
            421,
        ]
        assert not_json.json()["error"]["code"] == -32700
        not_jsonrpc = await http.post(url, content=b'{"id": 3, "hello": 1}', headers=json_type | routing)
        assert (not_jsonrpc.status_code, not_jsonrpc.json()["id"]) == (400, 3)
        assert "limit of 2000 bytes" in oversize.json()["error"]["message"]
        assert codec.REPLY_TO in unrouted.json()["error"]["message"]
        async with open_client(transport, timeout=10) as client:
            assert (await client.call_tool("echo", {"text": "still up"})).content[0].text == "still up"


async def test_an_oversize_response_becomes_a_jsonrpc_error(tmp_path: Path) -> None:
    transport = webhook_transport(tmp_path, max_body_bytes=4096)
    async with running(ControlledApp(), transport), open_client(transport, timeout=10) as client:
        with pytest.raises(MCPError, match="exceeds the webhook limit of 4096 bytes"):
            await client.call_tool("big", {"size": 10_000})


@pytest.mark.faults
async def test_an_undeliverable_response_lands_in_the_dead_letter_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transport = webhook_transport(tmp_path, delivery_attempts=2)
    url = f"http://127.0.0.1:{reserve_port()}/webhook"
    dead = DeadLetterFile(tmp_path / "dead-letter.jsonl")
    headers = {"content-type": "application/json", codec.CLIENT_ID: "gone", codec.REPLY_TO: url}
    with caplog.at_level(logging.ERROR, logger="asyncmcp_cli.transports.webhook.delivery"):
        async with running(ControlledApp(), transport), httpx2.AsyncClient() as http:
            body = json.dumps(tool_call("echo", {"text": "lost?"}, rid=9))
            assert (await http.post(transport.server_url, content=body, headers=headers)).status_code == 202
            await wait_until(dead.read)
    [letter] = dead.read()
    assert (letter.url, letter.client_id) == (url, "gone")
    assert json.loads(letter.body)["id"] == 9
    assert "lost?" in letter.body
    assert sum(str(dead.path) in r.getMessage() for r in caplog.records) == 1


async def test_secrets_rotate_without_a_gap(tmp_path: Path) -> None:
    new = generate_secret()
    server = webhook_transport(tmp_path, webhook_secret=(new, SECRET))
    async with running(ControlledApp(), server):
        for client_secrets in ((SECRET,), (new,)):
            client = webhook_transport(tmp_path, webhook_secret=client_secrets, server_url=server.server_url)
            async with open_client(client, timeout=10) as session:
                assert (await session.call_tool("echo", {"text": "rotated"})).content[0].text == "rotated"


async def test_no_secret_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASYNCMCP_WEBHOOK_SECRET", raising=False)
    transport = webhook_transport(tmp_path, webhook_secret=())
    with pytest.raises(ConfigurationError, match="--webhook-secret"):
        async with transport.listen():
            pass
    monkeypatch.setenv("ASYNCMCP_WEBHOOK_SECRET", f"{SECRET} {OTHER_SECRET}")
    assert transport.options.secrets == (SECRET, OTHER_SECRET)


def test_found_by_url_with_its_options() -> None:
    transport = resolve("webhook://127.0.0.1:9001/rpc?allow_webhook=http://127.0.0.1:*,https://*&delivery_attempts=3")
    assert isinstance(transport, WebhookTransport)
    o = transport.options
    assert (o.host, o.port, o.path, o.delivery_attempts) == ("127.0.0.1", 9001, "/rpc", 3)
    assert o.allow_webhook == ("http://127.0.0.1:*", "https://*")
    assert transport.server_url == "http://127.0.0.1:9001/rpc"
    assert resolve("webhook", port=0).options.port == 0


async def test_with_a_bearer_token_only_clients_that_present_it_are_served(tmp_path: Path) -> None:
    transport = webhook_transport(tmp_path, bearer_token="let-me-in")
    app = ControlledApp()
    body = json.dumps(tool_call("echo", {"text": "sneaked"}))
    headers = {"content-type": "application/json", codec.CLIENT_ID: "c", codec.REPLY_TO: "http://127.0.0.1:9/hook"}
    async with running(app, transport), httpx2.AsyncClient() as http:
        anonymous = await http.post(transport.server_url, content=body, headers=headers)
        wrong = await http.post(transport.server_url, content=body, headers=headers | {"authorization": "Bearer no"})
        async with open_client(transport, timeout=10) as client:  # the transport's own client presents it
            answered = await client.call_tool("echo", {"text": "let in"})
    assert [anonymous.status_code, wrong.status_code] == [401, 401]
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token is required" in anonymous.json()["error_description"]
    assert answered.content[0].text == "let in"
    assert app.executions["echo:sneaked"] == 0


def test_an_open_server_off_loopback_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    inner = receiver_app(Verifier([SECRET]), lambda body, headers: anyio.lowlevel.checkpoint())
    assert guarded(inner, token=None, host="0.0.0.0", owner="test server") is inner
    assert any("without a bearer token" in r.getMessage() for r in caplog.records)
    caplog.clear()
    assert guarded(inner, token=None, host="127.0.0.1", owner="test server") is inner
    assert caplog.records == []
