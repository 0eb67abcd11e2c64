"""An MCP server for tests: tools whose timing and executions the test controls."""

from __future__ import annotations

from collections import Counter

import anyio
from mcp.server.mcpserver import Context, MCPServer


class ControlledApp:
    """A fresh server per test, with a gate a tool waits on and a count of executions."""

    def __init__(self) -> None:
        self.gate = anyio.Event()
        self.started = anyio.Event()
        self.executions: Counter[str] = Counter()
        self.server = MCPServer("asyncmcp-test")
        app = self

        @self.server.tool()
        def echo(text: str) -> str:
            app.executions[f"echo:{text}"] += 1
            return text

        @self.server.tool()
        async def wait_for_gate(tag: str = "") -> str:
            """Blocks until the test opens the gate."""
            app.executions[f"gate:{tag}"] += 1
            app.started.set()
            await app.gate.wait()
            return f"gate opened {tag}"

        @self.server.tool()
        def big(size: int) -> str:
            return "x" * size

        @self.server.tool()
        async def count_up(steps: int, ctx: Context) -> str:
            """Reports progress 0..steps (steps + 1 notifications), then returns."""
            for step in range(steps + 1):
                await ctx.report_progress(step, steps)
            return f"counted to {steps}"

    @property
    def lowlevel(self):
        return self.server._lowlevel_server
