"""Two clients of `@modelcontextprotocol/server-everything` (npm, stdio) served at once: each sees its own capabilities.

server-everything registers ``get-roots-list`` only for a client that declared
roots and ``trigger-sampling-request`` only for one that declared sampling, and
asks the client for its roots right after the handshake. Served by
``asyncmcp serve -- mcp-server-everything stdio`` (here: the same library call
over the memory transport, so the clients can have callbacks), each client
must see the list its own capabilities earn, and a sampling request must reach
the client whose call caused it while the other client's call is in flight.
"""

from __future__ import annotations

import anyio
import mcp_types as types
import pytest

from asyncmcp_cli.client import open_client
from asyncmcp_cli.transports.memory import MemoryTransport
from tests.interop.peers import npm_peer
from tests.upstream.support import served

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

CAPABILITY_TOOLS = {"get-roots-list", "trigger-sampling-request"}


async def test_two_clients_at_once_each_see_their_own_tools_and_only_the_sampler_is_sampled() -> None:
    everything = npm_peer("mcp-server-everything")
    sampled: dict[str, list[str]] = {"with": [], "without": []}
    plain_call_running, plain_call_done = anyio.Event(), anyio.Event()
    overlapped: list[bool] = []
    tools: dict[str, set[str]] = {}
    results: dict[str, str] = {}

    async def sample(context: object, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        content = params.messages[0].content
        sampled["with"].append(content.text if isinstance(content, types.TextContent) else "?")
        with anyio.fail_after(30):
            await plain_call_running.wait()  # the other client's call has reported progress
        overlapped.append(not plain_call_done.is_set())
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="sampled for the client with"), model="t"
        )

    async def roots(context: object) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri="file:///srv/project-with-roots", name="with-roots")])

    async def with_capabilities(transport: MemoryTransport) -> None:
        async with open_client(
            transport,
            era="handshake",
            client_id="with",
            timeout=60,
            sampling_callback=sample,
            list_roots_callback=roots,
        ) as client:
            tools["with"] = {tool.name for tool in (await client.list_tools()).tools}
            called = await client.call_tool("trigger-sampling-request", {"prompt": "for the client with"})
            listed = await client.call_tool("get-roots-list", {})
        assert not called.is_error, called
        results["sampling"] = called.content[0].text
        results["roots"] = listed.content[0].text

    async def without_capabilities(transport: MemoryTransport) -> None:
        async with open_client(transport, era="handshake", client_id="without", timeout=60) as client:
            tools["without"] = {tool.name for tool in (await client.list_tools()).tools}

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                plain_call_running.set()

            called = await client.call_tool(
                "trigger-long-running-operation", {"duration": 10, "steps": 10}, progress_callback=on_progress
            )
            plain_call_done.set()
        assert not called.is_error, called

    async with served([everything, "stdio"], call_timeout=60) as (transport, server):
        assert server.name == "mcp-servers/everything"
        with anyio.fail_after(100):
            async with anyio.create_task_group() as tg:
                tg.start_soon(with_capabilities, transport)
                tg.start_soon(without_capabilities, transport)
    assert tools["with"] >= CAPABILITY_TOOLS
    assert not CAPABILITY_TOOLS & tools["without"]
    assert {"echo", "get-sum"} <= tools["without"] & tools["with"]
    assert overlapped == [True], "the sampling request came while the other client's call was running"
    assert sampled == {"with": ["Resource trigger-sampling-request context: for the client with"], "without": []}
    assert "sampled for the client with" in results["sampling"]
    assert "file:///srv/project-with-roots" in results["roots"]
