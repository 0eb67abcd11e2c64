"""The MCP server the Lambda tests serve (``ASYNCMCP_APP=tests.serverless.lambda_app:app``).

State lives at module level, as it would in a warm Lambda container, and is
loop-independent: each invocation runs its own event loop.
"""

from __future__ import annotations

from collections import Counter

import anyio
from mcp.server.mcpserver import MCPServer

executions: Counter[str] = Counter()
slow_seconds = 0.0
"""How long `slow` takes; a test sets it to outlast an invocation."""

app = MCPServer("asyncmcp-lambda-test")


@app.tool()
def echo(text: str) -> str:
    executions[f"echo:{text}"] += 1
    return text


@app.tool()
async def slow(text: str) -> str:
    executions[f"slow:{text}"] += 1
    await anyio.sleep(slow_seconds)
    return f"slow {text}"
