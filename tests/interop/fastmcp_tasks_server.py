"""A FastMCP server with task-capable tools (FastMCP's own Tasks runtime, fastmcp-tasks), served over stdio.

Installed with the ``interop`` extra (part of ``dev``); the tests run it as a
subprocess. Its task store is Docket's ``memory://``: tasks live as long as
this process. The tools ask to be polled every 200 ms (FastMCP's default is
5 s), so the tests are quick.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
from fastmcp import FastMCP
from fastmcp.utilities.tasks import TaskConfig
from fastmcp_tasks import TasksExtension

POLL = timedelta(milliseconds=200)

mcp = FastMCP("fastmcp-tasks-peer")
mcp.add_extension(TasksExtension(url="memory://"))


@mcp.tool(task=TaskConfig(mode="optional", poll_interval=POLL))
async def slow(seconds: float = 1.0, text: str = "done") -> str:
    """Sleep, then answer `text`: a long-running call."""
    await anyio.sleep(seconds)
    return text


@mcp.tool(task=TaskConfig(mode="required", poll_interval=POLL))
async def broken(reason: str = "broken on purpose") -> str:
    """Fail as a tool (isError); only ever run as a task (callers without the capability get -32021)."""
    raise ValueError(reason)


@mcp.tool
def quick(text: str = "hi") -> str:
    """An ordinary tool: never a task."""
    return text


if __name__ == "__main__":
    mcp.run(show_banner=False)
