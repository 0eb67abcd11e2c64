"""Serving an existing streamable HTTP MCP server (real uvicorn on a loopback port) over a transport."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import pytest
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.client import open_client
from asyncmcp_cli.errors import TransportError
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.transports.webhook.serving import serve_asgi
from asyncmcp_cli.upstream import UrlTarget, upstream_server

pytestmark = pytest.mark.anyio


def http_server(generation: int) -> MCPServer:
    server = MCPServer("http-upstream", version=str(generation))

    @server.tool()
    def whoami(text: str) -> str:
        return f"{text} from generation {generation}"

    return server


@asynccontextmanager
async def http_upstream(generation: int, port: int = 0) -> AsyncIterator[int]:
    """An SDK server on streamable HTTP (uvicorn, 127.0.0.1); yields its port."""
    mcp = http_server(generation)
    app = mcp.streamable_http_app()
    async with mcp.session_manager.run(), serve_asgi(app, "127.0.0.1", port, graceful_seconds=1) as bound:
        yield bound.port


@asynccontextmanager
async def served(url: str) -> AsyncIterator[MemoryTransport]:
    transport = MemoryTransport(f"http-upstream-{uuid.uuid4().hex}")
    shutdown, ready = anyio.Event(), anyio.Event()
    async with (
        upstream_server(UrlTarget(url), call_timeout=20, ready_timeout=20) as server,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(lambda: serve(server, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set))
        await ready.wait()
        try:
            yield transport
        finally:
            shutdown.set()


@pytest.mark.parametrize("era", ["stateless", "handshake"])
async def test_an_http_server_is_served_over_the_transport(era: str) -> None:
    async with (
        http_upstream(1) as port,
        served(f"http://127.0.0.1:{port}/mcp") as transport,
        open_client(transport, era=era, timeout=20) as client,
    ):
        tools = await client.list_tools()
        result = await client.call_tool("whoami", {"text": "hello"})
    assert [tool.name for tool in tools.tools] == ["whoami"]
    assert result.content[0].text == "hello from generation 1"


async def run_upstream(
    generation: int, port: int, stop: anyio.Event, stopped: anyio.Event, *, task_status: anyio.abc.TaskStatus[int]
) -> None:
    try:
        async with http_upstream(generation, port) as bound_port:
            task_status.started(bound_port)
            await stop.wait()
    finally:
        stopped.set()


async def test_an_http_server_that_restarts_and_forgets_our_session_is_reconnected() -> None:
    first_stop, second_stop, first_stopped = anyio.Event(), anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        port = await tg.start(run_upstream, 1, 0, first_stop, first_stopped)
        url = f"http://127.0.0.1:{port}/mcp"
        async with served(url) as transport, open_client(transport, timeout=30) as client:
            first = await client.call_tool("whoami", {"text": "a"})
            first_stop.set()  # the server goes away ...
            await first_stopped.wait()
            await tg.start(
                run_upstream, 2, port, second_stop, anyio.Event()
            )  # ... and a new one, which never saw us, comes up
            failures: list[str] = []
            with anyio.fail_after(30):
                while True:
                    try:
                        second = await client.call_tool("whoami", {"text": "b"})
                        break
                    except MCPError as exc:  # calls caught in the switch-over fail cleanly, then calls work again
                        failures.append(exc.error.message)
                        await anyio.sleep(0.2)
        second_stop.set()
    assert first.content[0].text == "a from generation 1"
    assert second.content[0].text == "b from generation 2"
    assert all(message.startswith("asyncmcp: ") or "Session" in message for message in failures)


async def test_an_unreachable_url_fails_at_once() -> None:
    with pytest.raises(TransportError, match="did not start"):
        async with upstream_server(UrlTarget("http://127.0.0.1:9/mcp"), init_timeout=10):
            pass
