"""The built-in demo server: what `asyncmcp serve` runs when no APP is given."""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

demo = MCPServer(
    "asyncmcp-demo",
    instructions="A small server for trying asyncmcp: echo, add, a slow tool, a resource and a prompt.",
)


# Tools that do no blocking work are async: MCPServer runs a plain function on a
# worker thread, a hop that costs more than these tools themselves.


@demo.tool()
async def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@demo.tool()
async def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@demo.tool()
async def sleep(seconds: float, ctx: Context) -> str:
    """Wait for `seconds` (reporting progress each second), like a slow batch job."""
    steps = max(1, int(seconds))
    for step in range(steps):
        await ctx.report_progress(step, steps, f"working ({step}/{steps})")
        await anyio.sleep(seconds / steps)
    return f"slept {seconds:g}s"


@demo.tool()
async def fail(reason: str = "asked to fail") -> str:
    """Always fail; shows how a tool error reaches the caller."""
    raise ToolError(reason)


@demo.resource("demo://readme", mime_type="text/markdown")
def readme() -> str:
    """What this server is."""
    return "# asyncmcp demo\n\nServed over an asynchronous transport.\n"


@demo.prompt()
def summarize(topic: str) -> str:
    """Ask for a short summary of a topic."""
    return f"Summarize {topic} in three sentences."
