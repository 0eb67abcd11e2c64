"""Serve an upstream command over a fresh memory transport, for the upstream and interop tests."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.upstream import CommandTarget, UpstreamMirror, upstream_server

UPSTREAM = [sys.executable, str(Path(__file__).with_name("stdio_server.py"))]


@asynccontextmanager
async def served(
    argv: list[str] = UPSTREAM, *, call_timeout: float | None = 20, **options: Any
) -> AsyncIterator[tuple[MemoryTransport, UpstreamMirror]]:
    """The upstream command served over a fresh memory transport for the duration of the block."""
    transport = MemoryTransport(f"upstream-{uuid.uuid4().hex}")
    shutdown, ready = anyio.Event(), anyio.Event()
    async with (
        upstream_server(CommandTarget.of(argv), call_timeout=call_timeout, ready_timeout=20, **options) as server,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(lambda: serve(server, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set))
        await ready.wait()
        try:
            yield transport, server
        finally:
            shutdown.set()
