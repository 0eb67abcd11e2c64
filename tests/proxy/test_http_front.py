"""The HTTP front: SDK clients on real HTTP (uvicorn on 127.0.0.1) through the proxy to a backend server."""

from __future__ import annotations

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.demo import demo
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.proxy.http import parse_listen
from tests.proxy.support import RecordingTransport, memory_transport, proxied
from tests.testapp import ControlledApp

pytestmark = pytest.mark.anyio

MODES = ["auto", "legacy", "2026-07-28"]


@pytest.mark.parametrize("mode", MODES)
async def test_an_sdk_client_lists_calls_and_gets_progress_in_every_mode(mode: str) -> None:
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with proxied(as_lowlevel(demo), memory_transport()) as url, Client(url, mode=mode) as client:
        tools = await client.list_tools()
        added = await client.call_tool("add", {"a": 2, "b": 40})
        slept = await client.call_tool("sleep", {"seconds": 1.2}, progress_callback=on_progress)
        failed = await client.call_tool("fail", {"reason": "on purpose"})
    assert {tool.name for tool in tools.tools} == {"echo", "add", "sleep", "fail"}
    assert added.content[0].text == "42.0"
    assert slept.content[0].text == "slept 1.2s"
    assert progress == [0.0]
    assert failed.is_error and "on purpose" in failed.content[0].text


async def test_a_handshake_client_sees_the_backends_own_identity() -> None:
    async with proxied(as_lowlevel(demo), memory_transport()) as url, Client(url, mode="legacy") as client:
        info, instructions = client.server_info, client.instructions
    assert info is not None and info.name == "asyncmcp-demo"
    assert instructions is not None and "asyncmcp" in instructions


async def test_each_front_session_gets_its_own_backend_client_identity() -> None:
    transport = RecordingTransport(memory_transport())
    async with proxied(as_lowlevel(demo), transport) as url:

        async def session(n: int) -> None:
            async with Client(url, mode="legacy") as client:
                for i in range(3):
                    result = await client.call_tool("echo", {"text": f"{n}/{i}"})
                    assert result.content[0].text == f"{n}/{i}"

        async with anyio.create_task_group() as tg:
            for n in range(5):
                tg.start_soon(session, n)
    lanes = [client_id for client_id in transport.client_ids if client_id is not None]
    assert len(lanes) == 5 and len(set(lanes)) == 5


async def test_concurrent_clients_in_both_eras_each_get_their_own_answers() -> None:
    answers: dict[str, list[str]] = {}
    async with proxied(as_lowlevel(demo), memory_transport()) as url:

        async def client(name: str, mode: str) -> None:
            async with Client(url, mode=mode) as session:
                got = answers.setdefault(name, [])
                for i in range(5):
                    got.append((await session.call_tool("echo", {"text": f"{name}:{i}"})).content[0].text)

        async with anyio.create_task_group() as tg:
            for n in range(10):
                tg.start_soon(client, f"c{n}", MODES[n % 3])
    assert answers == {f"c{n}": [f"c{n}:{i}" for i in range(5)] for n in range(10)}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_call_with_no_answer_in_time_gets_a_json_rpc_error_and_the_proxy_goes_on(mode: str) -> None:
    app = ControlledApp()
    async with proxied(app.lowlevel, memory_transport(), call_timeout=0.5) as url, Client(url, mode=mode) as client:
        with pytest.raises(MCPError) as timed_out:
            await client.call_tool("wait_for_gate", {"tag": "never"})
        echoed = await client.call_tool("echo", {"text": "after"})
        app.gate.set()
    assert timed_out.value.error.code == types.REQUEST_TIMEOUT
    assert "no answer from the backend within 0.5s" in timed_out.value.error.message
    assert echoed.content[0].text == "after"


async def test_a_cancelled_call_is_cancelled_at_the_backend_too() -> None:
    started, cancelled = anyio.Event(), anyio.Event()
    server = MCPServer("cancellable")

    @server.tool()
    async def hang() -> str:
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()
        return "never"

    @server.tool()
    def echo(text: str) -> str:
        return text

    async with proxied(server._lowlevel_server, memory_transport()) as url, Client(url, mode="legacy") as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, "hang", {})
            with anyio.fail_after(10):
                await started.wait()
            tg.cancel_scope.cancel()
        with anyio.fail_after(10):
            await cancelled.wait()  # the front's cancel went through the proxy to the backend
        echoed = await client.call_tool("echo", {"text": "still fine"})
    assert echoed.content[0].text == "still fine"


def _http(token: str | None = None) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0))


async def test_a_bearer_token_is_required_when_configured() -> None:
    async with proxied(as_lowlevel(demo), memory_transport(), token="s3cret-token") as url:
        base = url.removesuffix("/mcp")
        async with _http() as http:
            health = await http.get(f"{base}/health")
            refused = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        async with _http("wrong-token") as http:
            wrong = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        async with (
            _http("s3cret-token") as http,
            Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
        ):
            result = await client.call_tool("echo", {"text": "let in"})
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert result.content[0].text == "let in"


async def test_cors_preflight_is_answered_for_allowed_origins_only() -> None:
    origin = "http://localhost:6274"
    async with proxied(as_lowlevel(demo), memory_transport(), cors_origins=(origin,), token="t") as url:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        async with _http() as http:
            allowed = await http.options(url, headers={"Origin": origin, **preflight})
            denied = await http.options(url, headers={"Origin": "http://evil.example", **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == origin
    assert denied.status_code == 400


async def test_oversized_bodies_and_foreign_hosts_are_refused() -> None:
    async with proxied(as_lowlevel(demo), memory_transport(), max_body_bytes=1024) as url:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "text": "x" * 4096}}
        headers = {"Accept": "application/json, text/event-stream"}
        async with _http() as http:
            too_big = await http.post(url, json=body, headers=headers)
            ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            rebinding = await http.post(url, json=ping, headers={"Host": "evil.example", **headers})
    assert too_big.status_code == 413
    assert rebinding.status_code == 421


def test_listen_urls_default_to_loopback_port_8080_and_mcp() -> None:
    assert parse_listen("http://127.0.0.1:8080/mcp").url() == "http://127.0.0.1:8080/mcp"
    assert parse_listen("http://0.0.0.0:9000").path == "/mcp"
    assert parse_listen("localhost").port == 8080
    assert parse_listen("http://[::1]:0/x/").url(4321) == "http://[::1]:4321/x"
    assert not parse_listen("http://0.0.0.0:1/mcp").loopback
    with pytest.raises(ConfigurationError, match="http://"):
        parse_listen("https://127.0.0.1/mcp")
