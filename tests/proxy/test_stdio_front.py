"""The stdio front, in process: one host's stream pair, one backend lane, both protocol eras."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from mcp import Client
from mcp.shared.message import SessionMessage

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.demo import demo
from asyncmcp_cli.proxy import serve_streams
from asyncmcp_cli.types import TransportStreams
from tests.proxy.support import RecordingTransport, backend, memory_transport

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def host_pipe(transport: RecordingTransport) -> AsyncIterator[TransportStreams]:
    """What a desktop host has: the two ends of the proxy's stdin and stdout."""
    to_proxy, proxy_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    proxy_writes, from_proxy = anyio.create_memory_object_stream[SessionMessage](0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve_streams(transport, proxy_reads, proxy_writes, call_timeout=20))
        try:
            yield from_proxy, to_proxy  # type: ignore[misc]
        finally:
            to_proxy.close()  # the host closes stdin: the proxy ends


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_host_on_stdio_reaches_the_backend(mode: str) -> None:
    transport = RecordingTransport(memory_transport())
    async with backend(as_lowlevel(demo), transport), Client(host_pipe(transport), mode=mode) as client:
        tools = await client.list_tools()
        results = [await client.call_tool("add", {"a": n, "b": 1}) for n in range(3)]
    assert "add" in {tool.name for tool in tools.tools}
    assert [r.content[0].text for r in results] == ["1.0", "2.0", "3.0"]
    if mode == "legacy":  # the host's session lives on one backend lane for its whole life
        assert len([cid for cid in transport.client_ids if cid]) == 1
