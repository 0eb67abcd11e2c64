"""The http+webhook transport against real uvicorn servers on 127.0.0.1: the contract, then slow tools."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.client import open_client
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.http_webhook.router import DELIVERY_HEADER, REQUEST_ID_HEADER
from asyncmcp_cli.transports.http_webhook.tools import DELIVERY_META, webhook_tool
from asyncmcp_cli.transports.http_webhook.transport import HttpWebhookTransport
from asyncmcp_cli.transports.registry import resolve
from asyncmcp_cli.transports.webhook.deadletter import DeadLetterFile
from tests.conftest import wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import TransportContract, running
from tests.transports.webhook_support import (
    MODERN,
    OTHER_SECRET,
    SECRET,
    ScriptedReceiver,
    http_headers,
    loopback_options,
    post_signed,
    tool_call,
)

pytestmark = pytest.mark.anyio


def http_webhook_transport(tmp_path: Path, **options: object) -> HttpWebhookTransport:
    values = loopback_options(tmp_path) | {"webhook_tools": ("wait_for_gate",)}
    return HttpWebhookTransport(**(values | options))


class TestHttpWebhookContract(TransportContract):
    @pytest.fixture
    def transport(self, tmp_path: Path) -> HttpWebhookTransport:
        return http_webhook_transport(tmp_path)

    async def inject_reply(self, transport: Transport, client_id: str, body: str) -> None:
        assert isinstance(transport, HttpWebhookTransport)
        response = await post_signed(transport.receivers[client_id], body)
        assert response.status_code == 202


class SlowAndFast(ControlledApp):
    """The test app, plus a tool marked by the decorator that reports progress."""

    def __init__(self) -> None:
        super().__init__()

        @webhook_tool(self.server, description="Reports progress, then waits for the gate.")
        async def report(steps: int, ctx: Context) -> str:
            for step in range(steps):
                await ctx.report_progress(step, steps, f"step {step}")
            await self.gate.wait()
            return f"reported {steps}"


def webhook_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "will arrive by webhook" in r.getMessage()]


async def test_clients_see_which_tools_answer_by_webhook(tmp_path: Path) -> None:
    transport = http_webhook_transport(tmp_path)
    async with running(SlowAndFast(), transport), open_client(transport, timeout=10) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert tools["wait_for_gate"].meta == {DELIVERY_META: "webhook"}  # by configuration
    assert tools["report"].meta == {DELIVERY_META: "webhook"}  # by the decorator
    assert not (tools["echo"].meta or {}).get(DELIVERY_META)


async def test_a_webhook_tool_answers_202_at_once_and_its_result_by_webhook(tmp_path: Path) -> None:
    app = ControlledApp()
    transport = http_webhook_transport(tmp_path)
    receiver = ScriptedReceiver(verify=SECRET)
    async with running(app, transport), receiver.running() as bound, httpx2.AsyncClient() as http:
        request = tool_call("wait_for_gate", {"tag": "raw"}, rid=41)
        response = await http.post(
            transport.server_url,
            content=json.dumps(request),
            headers=http_headers(request, reply_to=bound.url("/webhook")),
        )
        assert response.status_code == 202
        assert response.headers[DELIVERY_HEADER] == "webhook"
        await app.started.wait()
        assert receiver.arrivals == []  # the HTTP reply came while the tool was still running
        app.gate.set()
        await wait_until(lambda: receiver.arrivals)
    [result] = receiver.bodies()
    assert result["id"] == 41
    assert result["result"]["content"][0]["text"] == "gate opened raw"
    assert receiver.arrivals[0].headers[REQUEST_ID_HEADER] == "41"


async def test_a_webhook_call_the_sdk_refuses_still_gets_an_answer_by_webhook(tmp_path: Path) -> None:
    transport = http_webhook_transport(tmp_path)
    receiver = ScriptedReceiver(verify=SECRET)
    async with running(ControlledApp(), transport), receiver.running() as bound, httpx2.AsyncClient() as http:
        request = tool_call("wait_for_gate", {"tag": "x"}, rid="r-7")
        headers = http_headers(request, reply_to=bound.url("/webhook")) | {"accept": "text/html"}
        response = await http.post(transport.server_url, content=json.dumps(request), headers=headers)
        assert response.status_code == 202
        await wait_until(lambda: receiver.arrivals)
    [error] = receiver.bodies()
    assert error["id"] == "r-7"
    assert "HTTP 406" in error["error"]["message"]


async def test_a_slow_webhook_tool_alongside_fast_tools_on_one_connection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = ControlledApp()
    transport = http_webhook_transport(tmp_path)
    caplog.set_level(logging.DEBUG, logger="asyncmcp_cli.transports.http_webhook.client")
    async with running(app, transport), open_client(transport, timeout=20) as client:
        slow: list[str] = []

        async def call_slow() -> None:
            slow.append((await client.call_tool("wait_for_gate", {"tag": "slow"})).content[0].text)

        async with anyio.create_task_group() as tg:
            tg.start_soon(call_slow)
            await app.started.wait()
            await wait_until(lambda: webhook_log(caplog))  # its HTTP request has already been answered
            for n in range(10):
                assert (await client.call_tool("echo", {"text": f"fast {n}"})).content[0].text == f"fast {n}"
            assert slow == []
            app.gate.set()
    assert slow == ["gate opened slow"]
    assert len(webhook_log(caplog)) == 1  # only the slow tool went by webhook


@pytest.mark.parametrize("era", ["stateless", "handshake"])
async def test_both_eras_get_webhook_results_and_progress(tmp_path: Path, era: str) -> None:
    app = SlowAndFast()
    app.gate.set()
    transport = http_webhook_transport(tmp_path)
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with running(app, transport), open_client(transport, era=era, timeout=20) as client:
        result = await client.call_tool("report", {"steps": 3}, progress_callback=on_progress)
        fast = await client.call_tool("echo", {"text": "fast"})
    assert result.content[0].text == "reported 3"
    assert progress == [0, 1, 2]
    assert fast.content[0].text == "fast"


async def test_a_refused_webhook_url_fails_the_call_and_nothing_is_posted(tmp_path: Path) -> None:
    app = ControlledApp()
    app.gate.set()
    transport = http_webhook_transport(tmp_path, allow_webhook=("https://*",))
    async with running(app, transport), open_client(transport, timeout=10) as client:
        with pytest.raises(MCPError, match=r"allow-list|loopback"):
            await client.call_tool("wait_for_gate", {"tag": "refused"})
        assert (await client.call_tool("echo", {"text": "fast still works"})).content[0].text == "fast still works"
    assert app.executions["gate:refused"] == 0
    assert DeadLetterFile(tmp_path / "dead-letter.jsonl").read() == []


async def test_a_plain_streamable_http_client_gets_webhook_tools_answered_inline(tmp_path: Path) -> None:
    app = ControlledApp()
    app.gate.set()
    transport = http_webhook_transport(tmp_path)
    async with running(app, transport), Client(streamable_http_client(transport.server_url), mode=MODERN) as client:
        result = await client.call_tool("wait_for_gate", {"tag": "inline"})
    assert result.content[0].text == "gate opened inline"


@pytest.mark.faults
async def test_oversize_and_malformed_bodies_get_clear_errors(tmp_path: Path) -> None:
    transport = http_webhook_transport(tmp_path, max_body_bytes=2000)
    async with running(ControlledApp(), transport), httpx2.AsyncClient() as http:
        request = tool_call("echo", {"text": "x" * 5000})
        oversize = await http.post(transport.server_url, content=json.dumps(request), headers=http_headers(request))
        garbage = await http.post(transport.server_url, content=b"{oops", headers=http_headers(request))
        async with open_client(transport, timeout=10) as client:
            assert (await client.call_tool("echo", {"text": "still up"})).content[0].text == "still up"
    assert oversize.status_code == 413
    assert "limit of 2000 bytes" in oversize.json()["error"]["message"]
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == -32700


@pytest.mark.faults
async def test_a_foreign_host_header_is_refused_before_any_webhook_work(tmp_path: Path) -> None:
    app = ControlledApp()
    transport = http_webhook_transport(tmp_path)
    receiver = ScriptedReceiver()
    async with running(app, transport), receiver.running() as bound, httpx2.AsyncClient() as http:
        request = tool_call("wait_for_gate", {"tag": "rebound"})
        headers = http_headers(request, reply_to=bound.url("/webhook")) | {"host": "evil.example"}
        response = await http.post(transport.server_url, content=json.dumps(request), headers=headers)
    assert response.status_code == 421
    assert receiver.arrivals == []
    assert app.executions["gate:rebound"] == 0


@pytest.mark.faults
async def test_a_forged_webhook_does_not_reach_the_caller(tmp_path: Path) -> None:
    app = ControlledApp()
    transport = http_webhook_transport(tmp_path)
    answer: list[str] = []
    async with (
        running(app, transport),
        open_client(transport, client_id="victim", timeout=20) as client,
        anyio.create_task_group() as tg,
    ):

        async def call() -> None:
            answer.append((await client.call_tool("wait_for_gate", {"tag": "real"})).content[0].text)

        tg.start_soon(call)
        await app.started.wait()
        forged = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "forged"}]}})
        response = await post_signed(
            transport.receivers["victim"], forged, secret=OTHER_SECRET, headers={REQUEST_ID_HEADER: "1"}
        )
        assert response.status_code == 401
        app.gate.set()
    assert answer == ["gate opened real"]


async def test_listen_is_refused_with_a_pointer_to_serve(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="serve"):
        http_webhook_transport(tmp_path).listen()


def test_found_by_url_with_its_options() -> None:
    transport = resolve("http+webhook://127.0.0.1:9002/mcp?webhook_tools=render,export", port=0)
    assert isinstance(transport, HttpWebhookTransport)
    assert transport.options.webhook_tools == ("render", "export")
    assert transport.options.port == 0
    assert transport.describe()["webhook_tools"] == "render,export"


async def test_a_bearer_token_from_the_environment_guards_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCMCP_WEBHOOK_TOKEN", "from-the-environment")
    transport = http_webhook_transport(tmp_path)
    message = tool_call("echo", {"text": "sneaked"})
    async with running(ControlledApp(), transport), httpx2.AsyncClient() as http:
        anonymous = await http.post(transport.server_url, json=message, headers=http_headers(message))
        async with open_client(transport, timeout=10) as client:
            answered = await client.call_tool("echo", {"text": "let in"})
    assert anonymous.status_code == 401
    assert answered.content[0].text == "let in"
