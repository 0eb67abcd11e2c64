"""Which lane serves which front request: session lanes, pooled lanes, reopening, and the SDK shim."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.demo import demo
from asyncmcp_cli.protocol.relay import front_connection
from asyncmcp_cli.types import TransportStreams
from tests.proxy.support import RecordingTransport, memory_transport, proxied
from tests.testapp import ControlledApp

pytestmark = pytest.mark.anyio


class _NoChannel:
    """The least a `DispatchContext` needs to be for a `ServerSession` to be built around it."""

    can_send_request = False


def test_the_front_connection_is_found_on_the_sdks_request_context() -> None:
    # Pins the one place that reads SDK internals (`relay.front_connection`): an SDK upgrade that moves
    # the connection fails here, not by quietly giving every request of a session a lane of its own.
    connection = Connection.for_loop(_NoChannel())  # type: ignore[arg-type]
    session = ServerSession(_NoChannel(), connection)  # type: ignore[arg-type]
    ctx: ServerRequestContext[Any, Any] = ServerRequestContext(
        session=session, lifespan_context={}, protocol_version=connection.protocol_version, method="tools/list"
    )
    assert front_connection(ctx) is connection


async def test_stateless_requests_borrow_idle_lanes_instead_of_opening_new_ones() -> None:
    transport = RecordingTransport(memory_transport())
    async with proxied(as_lowlevel(demo), transport) as url, Client(url, mode="2026-07-28") as client:
        for i in range(10):
            assert (await client.call_tool("echo", {"text": str(i)})).content[0].text == str(i)
        with pytest.raises(MCPError):  # an error answer leaves the lane fit for the next request
            await client.get_prompt("no-such-prompt")
        assert (await client.call_tool("echo", {"text": "again"})).content[0].text == "again"
    assert len(transport.client_ids) == 1  # one lane, borrowed and given back each time


async def test_concurrent_stateless_requests_each_have_a_lane_of_their_own() -> None:
    transport = RecordingTransport(memory_transport())
    server = MCPServer("gathering")
    arrived: list[int] = []
    all_here, release = anyio.Event(), anyio.Event()

    @server.tool()
    async def gather(n: int) -> int:
        arrived.append(n)
        if len(arrived) == 4:
            all_here.set()
        await release.wait()
        return n

    async with (
        proxied(server._lowlevel_server, transport) as url,
        Client(url, mode="2026-07-28") as client,
        anyio.create_task_group() as tg,
    ):
        for n in range(4):
            tg.start_soon(client.call_tool, "gather", {"n": n})
        with anyio.fail_after(10):
            await all_here.wait()  # four requests at the backend at once ...
        release.set()
    assert len(set(transport.client_ids)) == 4  # ... each on its own lane


async def test_a_lane_whose_request_timed_out_is_not_lent_again() -> None:
    transport = RecordingTransport(memory_transport())
    app = ControlledApp()
    async with (
        proxied(app.lowlevel, transport, call_timeout=0.3) as url,
        Client(url, mode="2026-07-28") as client,
    ):
        with pytest.raises(MCPError):
            await client.call_tool("wait_for_gate", {"tag": "late"})
        app.gate.set()  # its late answer must not meet the next request on the same lane
        echoed = await client.call_tool("echo", {"text": "fresh lane"})
    assert echoed.content[0].text == "fresh lane"
    assert len(set(transport.client_ids)) == 2


class DroppingTransport(RecordingTransport):
    """Connections that the test can cut, as a network would."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.cut = anyio.Event()

    @asynccontextmanager
    async def _connect(self, client_id: str | None) -> AsyncIterator[TransportStreams]:
        async with self.inner.connect(client_id=client_id) as (read_stream, write_stream):
            relay_in, relay_out = anyio.create_memory_object_stream[SessionMessage | Exception](0)
            cut = self.cut

            async def relay() -> None:
                async with relay_in:
                    async for item in read_stream:
                        await relay_in.send(item)

            async with anyio.create_task_group() as tg:
                tg.start_soon(relay)

                async def cut_when_told() -> None:
                    await cut.wait()
                    relay_in.close()  # the lane's reader sees its connection end

                tg.start_soon(cut_when_told)
                try:
                    yield relay_out, write_stream
                finally:
                    tg.cancel_scope.cancel()
                    relay_out.close()

    def connect(self, *, client_id: str | None = None) -> Any:
        self.client_ids.append(client_id)
        return self._connect(client_id)


async def test_a_session_lane_that_drops_is_reopened_under_the_same_client_id() -> None:
    transport = DroppingTransport(memory_transport())
    async with proxied(as_lowlevel(demo), transport) as url, Client(url, mode="legacy") as client:
        before = await client.call_tool("echo", {"text": "before"})
        transport.cut.set()
        transport.cut = anyio.Event()
        with anyio.fail_after(10):
            while True:  # the next request after the drop is served on a reopened lane
                try:
                    after = await client.call_tool("echo", {"text": "after"})
                    break
                except MCPError:
                    await anyio.sleep(0.05)
    assert (before.content[0].text, after.content[0].text) == ("before", "after")
    assert len(transport.client_ids) == 2 and len(set(transport.client_ids)) == 1
