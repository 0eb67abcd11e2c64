"""What the task tests share: a server whose tools the test controls, and raw JSON-RPC over the real SDK client.

The SDK client has no Tasks API, so requests go through its dispatcher as raw
JSON-RPC with the 2026-07-28 envelope the test chooses (declaring the tasks
extension or not).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.shared.inbound import MCP_METHOD_HEADER, MCP_NAME_HEADER, MCP_PROTOCOL_VERSION_HEADER, encode_header_value
from pydantic import BaseModel

from asyncmcp_cli.client import open_client
from asyncmcp_cli.tasks import task_tool, wire
from asyncmcp_cli.tasks.runtime import TaskRuntime
from asyncmcp_cli.tasks.serving import enable_tasks
from asyncmcp_cli.tasks.store import MemoryTaskStore, TaskStore
from asyncmcp_cli.transports.base import Transport
from tests.transports.contract import running

VERSION = "2026-07-28"


def envelope(*, tasks: bool = True, **extra: Any) -> dict[str, Any]:
    capabilities: dict[str, Any] = {"elicitation": {"form": {}}}
    if tasks:
        capabilities["extensions"] = {wire.TASKS_EXTENSION_ID: {}}
    return {
        "io.modelcontextprotocol/protocolVersion": VERSION,
        wire.CLIENT_CAPABILITIES_META_KEY: capabilities,
        **extra,
    }


async def raw(client: Any, method: str, params: dict[str, Any], *, tasks: bool = True, **meta: Any) -> dict[str, Any]:
    """Send one request as raw JSON-RPC; return its result (an error raises `MCPError`).

    Over streamable HTTP the 2026-07-28 headers go along, ``Mcp-Name`` naming
    the tool or (for the task methods, as the spec asks) the task.
    """
    body = {**params, "_meta": envelope(tasks=tasks, **meta)}
    headers = {MCP_PROTOCOL_VERSION_HEADER: VERSION, MCP_METHOD_HEADER: method}
    name = params.get("taskId") if method.startswith("tasks/") else params.get("name")
    if isinstance(name, str) and name.isascii() and len(name) < 1000:
        headers[MCP_NAME_HEADER] = encode_header_value(name)
    return await client.session._dispatcher.send_raw_request(method, body, {"timeout": 30, "headers": headers})


class Name(BaseModel):
    name: str


async def ask_name() -> Elicit[Name]:
    return Elicit("Please enter your name.", Name)


class TaskApp:
    """A fresh server per test: a gated tool that notices cancellation, progress, input, failure."""

    def __init__(self) -> None:
        self.gate = anyio.Event()
        self.started = anyio.Event()
        self.cancelled = anyio.Event()
        self.finished: list[str] = []
        self.server = MCPServer("asyncmcp-tasks-test")
        app = self

        @task_tool(self.server)
        async def slow(tag: str = "") -> str:
            """Waits for the test's gate; records whether it was cancelled."""
            app.started.set()
            try:
                await app.gate.wait()
            except anyio.get_cancelled_exc_class():
                app.cancelled.set()
                raise
            app.finished.append(tag)
            return f"done {tag}"

        @task_tool(self.server, support="required")
        def only_as_task(text: str) -> str:
            return f"task says {text}"

        @self.server.tool()
        def plain(text: str) -> str:
            return f"plain {text}"

        @task_tool(self.server)
        async def steps(count: int, ctx: Context) -> str:
            for step in range(1, count + 1):
                await ctx.report_progress(step, count, "working through")
            await app.gate.wait()
            return f"{count} steps"

        @task_tool(self.server)
        async def hello(name: Annotated[Name, Resolve(ask_name)]) -> str:
            return f"Hello, {name.name}!"

        @task_tool(self.server)
        async def broken() -> str:
            from mcp.shared.exceptions import MCPError

            raise MCPError(-32099, "the backend refused")

    @property
    def lowlevel(self) -> Any:
        return self.server._lowlevel_server


def runtime(store: TaskStore | None = None, **options: Any) -> TaskRuntime:
    return TaskRuntime(store or MemoryTaskStore(), **options)


@asynccontextmanager
async def serving(app: TaskApp, transport: Transport, task_runtime: TaskRuntime, **tools: Any) -> AsyncIterator[None]:
    """Serve `app` with tasks over `transport` for the duration of the block."""
    enable_tasks(app.lowlevel, task_runtime, tools=tools)
    async with running(app, transport):
        yield


@asynccontextmanager
async def client(transport: Transport, client_id: str | None = None, **options: Any) -> AsyncIterator[Any]:
    async with open_client(transport, client_id=client_id, timeout=30, **options) as opened:
        yield opened


async def wait_for_status(client_: Any, task_id: str, *statuses: str, within: float = 20.0) -> dict[str, Any]:
    """Poll ``tasks/get`` until the task is in one of `statuses`; fail after `within` s."""
    with anyio.fail_after(within):
        while True:
            task = await raw(client_, "tasks/get", {"taskId": task_id})
            if task["status"] in statuses:
                return task
            await anyio.sleep(0.05)


def second_server_transport(queues: Any) -> Any:
    """An SQS transport on a second request/reply queue pair, for a second server sharing one task store."""
    from asyncmcp_cli.transports.sqs import SqsTransport

    queues.create(queues.prefix + "requests-b")
    queues.create(queues.prefix + "replies-b")
    return SqsTransport(
        endpoint_url=queues.endpoint.url,
        request_queue=queues.prefix + "requests-b",
        reply_queue=queues.prefix + "replies-b",
        allow_reply=(queues.prefix + "*",),
    )
