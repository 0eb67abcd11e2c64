"""The MCP server the trace runs serve: one tool that makes a span of its own."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from opentelemetry import trace

tool_tracer = trace.get_tracer("the-tool")

app = MCPServer("traced")


@app.tool()
def echo(text: str) -> str:
    with tool_tracer.start_as_current_span("tool work"):
        return text
