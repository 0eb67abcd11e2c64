"""The quick start in one call: local AWS endpoint, demo server over SQS, one tool call.

Everything runs in this process against real HTTP: moto's server on a free
loopback port, the SQS transport on both ends, the SDK's server and client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.client import open_client
from asyncmcp_cli.demo import demo
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.sqs import SqsTransport


@dataclass
class QuickstartResult:
    endpoint: str
    tools: list[str]
    tool: str
    arguments: dict[str, Any]
    result: types.CallToolResult


async def run_quickstart(
    report: Callable[[str], None] = lambda _: None,
    *,
    tool: str = "add",
    arguments: dict[str, Any] | None = None,
) -> QuickstartResult:
    arguments = arguments if arguments is not None else {"a": 2, "b": 3}
    with local_aws.local_endpoint() as endpoint:
        queues = local_aws.create_queues(endpoint.settings)
        report(f"local AWS endpoint (moto) at {endpoint.url}; queues: {', '.join(queues)}")
        transport = SqsTransport(endpoint_url=endpoint.url, region=endpoint.settings.resolved_region)
        shutdown = anyio.Event()
        ready = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, on_ready=ready.set))
            await ready.wait()
            report("demo MCP server listening on SQS queue asyncmcp-requests")
            async with open_client(transport, timeout=30) as client:
                tools = [t.name for t in (await client.list_tools()).tools]
                report(f"client connected (replies on asyncmcp-replies); tools: {', '.join(tools)}")
                result = await client.call_tool(tool, arguments)
            shutdown.set()
    return QuickstartResult(endpoint.url, tools, tool, arguments, result)
