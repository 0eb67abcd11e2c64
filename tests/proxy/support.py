"""Helpers for the proxy tests: a backend server on a transport, a proxy front in front of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from mcp.server.lowlevel.server import Server

from asyncmcp_cli.proxy import HttpFrontOptions, http_front
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.base import Listener, Transport
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.types import TransportStreams


class RecordingTransport:
    """A transport that notes the client id of every connection opened through it."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.scheme = inner.scheme
        self.client_ids: list[str | None] = []

    def listen(self) -> AbstractAsyncContextManager[Listener]:
        return self.inner.listen()

    def connect(self, *, client_id: str | None = None) -> AbstractAsyncContextManager[TransportStreams]:
        self.client_ids.append(client_id)
        return self.inner.connect(client_id=client_id)

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()


def memory_transport() -> MemoryTransport:
    return MemoryTransport(f"proxy-{uuid.uuid4().hex}")


@asynccontextmanager
async def backend(server: Server[Any], transport: Transport) -> AsyncIterator[None]:
    """`server` served over `transport` for the duration of the block."""
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(server, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set))
        await ready.wait()
        try:
            yield
        finally:
            shutdown.set()


@asynccontextmanager
async def proxied(
    server: Server[Any], transport: Transport, *, call_timeout: float | None = 20, **options: Any
) -> AsyncIterator[str]:
    """The backend server and an HTTP proxy front for it on 127.0.0.1; yields the proxy's URL."""
    front = HttpFrontOptions(listen="http://127.0.0.1:0/mcp", **options)
    async with backend(server, transport), http_front(transport, options=front, call_timeout=call_timeout) as url:
        yield url
