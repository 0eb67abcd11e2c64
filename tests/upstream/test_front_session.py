"""The client session a request runs in, as `serve` names it (what per-client upstream links are keyed by)."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.server.lowlevel.server import Server

from asyncmcp_cli.client import open_client
from asyncmcp_cli.protocol.relay import Ctx, front_session
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.base import SessionScope
from asyncmcp_cli.transports.memory import MemoryTransport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_serve_names_each_clients_session_for_its_whole_life_and_unwinds_it_at_the_end() -> None:
    seen: list[tuple[str, Any]] = []
    ended: list[str] = []

    async def call_tool(ctx: Ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        session = front_session(ctx)
        assert isinstance(session, SessionScope)  # serve's own, not the SDK's private connection
        if not session.state:
            session.state["opened"] = True
            session.exit_stack.callback(ended.append, session.client_id)
        seen.append((session.client_id, session))
        return types.CallToolResult(content=[types.TextContent(type="text", text=session.client_id)])

    async def list_tools(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="whoami", input_schema={"type": "object"})])

    server: Server[Any] = Server("scopes")
    server.add_request_handler("tools/list", types.PaginatedRequestParams, list_tools)
    server.add_request_handler("tools/call", types.CallToolRequestParams, call_tool)
    transport = MemoryTransport(f"scopes-{uuid.uuid4().hex}")
    shutdown, ready = anyio.Event(), anyio.Event()
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: serve(server, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set))
            await ready.wait()
            for name in ("alice", "bob"):
                async with open_client(transport, era="handshake", client_id=name, timeout=20) as client:
                    for _ in range(2):
                        result = await client.call_tool("whoami", {})
                        assert isinstance(result.content[0], types.TextContent)
                        assert result.content[0].text == name
            assert ended == []  # the sessions outlive their clients' requests ...
            shutdown.set()
    assert sorted(ended) == ["alice", "bob"]  # ... and unwind once serve ends them
    (alice_first, alice_again, bob_first, bob_again) = [session for _, session in seen]
    assert alice_first is alice_again and bob_first is bob_again
    assert alice_first is not bob_first
