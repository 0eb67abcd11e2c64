"""The server the operations and fault tests run in subprocesses.

`record` appends ``n pid time start`` to ``$ASYNCMCP_OPS_LOG`` when it starts
and ``n pid time done`` when it returns, so a test can tell which process ran
a call, and when, even if it was killed.
"""

from __future__ import annotations

import os
import time

import anyio
import anyio.to_thread
from mcp.server.mcpserver import MCPServer

server = MCPServer("asyncmcp-ops")


@server.tool()
async def slow_echo(text: str, seconds: float = 0.0) -> str:
    """Take `seconds`, return `text`."""
    await anyio.sleep(seconds)
    return text


@server.tool()
def fail_with(message: str) -> str:
    """A tool error: answered with isError, not a JSON-RPC error."""
    raise ValueError(message)


@server.tool()
async def record(n: int, seconds: float = 0.2) -> int:
    """Record this execution (call, process, time), take `seconds`, record its end, return `n`."""
    await anyio.to_thread.run_sync(_record, f"{n} {os.getpid()} {time.time():.6f} start")
    await anyio.sleep(seconds)
    await anyio.to_thread.run_sync(_record, f"{n} {os.getpid()} {time.time():.6f} done")
    return n


def _record(line: str) -> None:
    with open(os.environ["ASYNCMCP_OPS_LOG"], "a") as log:
        log.write(f"{line}\n")
        log.flush()
        os.fsync(log.fileno())
