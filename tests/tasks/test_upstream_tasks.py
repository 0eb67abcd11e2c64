"""An existing stdio MCP server, served by `serve -- COMMAND`: its calls run as tasks in the serve process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from asyncmcp_cli.server import serve
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.serving import enable_tasks
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.upstream import CommandTarget, upstream_server
from tests.tasks.support import client, raw, runtime, wait_for_status
from tests.upstream.support import UPSTREAM

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


@asynccontextmanager
async def served_with_tasks(**tools: wire.TaskSupport) -> AsyncIterator[MemoryTransport]:
    transport = MemoryTransport(f"upstream-tasks-{uuid.uuid4().hex}")
    shutdown, ready = anyio.Event(), anyio.Event()
    async with (
        upstream_server(CommandTarget.of(UPSTREAM), ready_timeout=20) as server,
        anyio.create_task_group() as tg,
    ):
        enable_tasks(server, runtime(), tools=tools)
        tg.start_soon(lambda: serve(server, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set))
        await ready.wait()
        try:
            yield transport
        finally:
            shutdown.set()


async def test_an_upstream_tool_runs_as_a_task() -> None:
    async with served_with_tasks(slow="optional") as transport, client(transport) as c:
        discovered = await raw(c, "server/discover", {})
        assert wire.TASKS_EXTENSION_ID in discovered["capabilities"]["extensions"]
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {"seconds": 0.5}})
        assert created["resultType"] == "task"
        done = await wait_for_status(c, created["taskId"], "completed")
        assert "0.5" in done["result"]["content"][0]["text"]
        plain = await c.call_tool("echo", {"text": "still plain"})
        assert plain.content[0].text == "still plain"


async def test_an_upstream_task_is_cancelled() -> None:
    async with served_with_tasks(slow="optional") as transport, client(transport) as c:
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {"seconds": 600}})
        await raw(c, "tasks/cancel", {"taskId": created["taskId"]})
        assert (await raw(c, "tasks/get", {"taskId": created["taskId"]}))["status"] == "cancelled"
        echoed = await c.call_tool("echo", {"text": "upstream still answers"})
        assert echoed.content[0].text == "upstream still answers"
