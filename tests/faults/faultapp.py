"""The server the fault tests run in subprocesses: it logs every execution to a file.

Each call writes ``start N`` when it begins (so a call cut off by SIGKILL still
counts) and ``done N`` when it finishes.
"""

from __future__ import annotations

import os

import anyio
import anyio.to_thread
from mcp.server.mcpserver import MCPServer

server = MCPServer("asyncmcp-faults")


@server.tool()
async def work(n: int, seconds: float = 0.2) -> int:
    """Record the execution, take `seconds`, return `n`."""
    await anyio.to_thread.run_sync(_record, f"start {n}")
    await anyio.sleep(seconds)
    await anyio.to_thread.run_sync(_record, f"done {n}")
    return n


def _record(line: str) -> None:
    with open(os.environ["ASYNCMCP_FAULT_LOG"], "a") as log:
        log.write(f"{line}\n")
        log.flush()
        os.fsync(log.fileno())
