"""The MCP server the trace runs serve (one tool that makes a span of its own), and what the runs share with the test.

Importing this installs no tracer provider; `traced_call` does, in its own process.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from opentelemetry import trace

ATTRIBUTE_ONLY = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
"""(trace id, span id) a foreign request carries only in its traceparent attribute."""
META_ONLY = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
"""(trace id, span id) a foreign request carries only in its _meta."""

tool_tracer = trace.get_tracer("the-tool")

app = MCPServer("traced")


@app.tool()
def echo(text: str) -> str:
    with tool_tracer.start_as_current_span("tool work"):
        return text
