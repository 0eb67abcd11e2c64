"""The stdio front: a desktop host starts ``asyncmcp proxy --stdio`` as if it were the MCP server.

The SDK's `stdio_server` owns stdout (and points stray writes to fd 1 at
stderr while it runs, so nothing but MCP reaches the host); the SDK's
`serve_dual_era_loop` serves the forwarding server on it, in whichever era
the host opens with. The host is one client: one backend lane for its whole
session.

The front answers ``initialize`` itself (`early`): usually before this module
is even imported, from the host's first line; the SDK then reads that line
again, so its session state is the same as if it had answered, and its own
answer to that request is not sent twice. The backend lane opens in the
background once the host is initialized.

The proxy exits when the host closes stdin: lanes are cancelled at once (a
long poll in flight is left to finish on its own thread, see `long_polls`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import IO, Any

import anyio
import anyio.to_thread
from mcp.server.runner import serve_dual_era_loop
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCResponse

from asyncmcp_cli.proxy.backend import Backend
from asyncmcp_cli.proxy.early import FirstLine, identity_of, load_identity, save_identity
from asyncmcp_cli.proxy.forwarder import proxy_server
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.types import SessionReadStream, SessionWriteStream

logger = logging.getLogger(__name__)


async def serve_stdio(
    transport: Transport,
    *,
    call_timeout: float | None = 120.0,
    first: FirstLine | None = None,
    identity_key: str | None = None,
    on_stdin_closed: Callable[[], None] | None = None,
) -> None:
    """Serve one host on this process's stdin/stdout until it closes stdin.

    `first` is what `early.answer_initialize` already read (and perhaps
    answered). `identity_key` names where the backend's identity is
    remembered between runs (see `early`). `on_stdin_closed` runs once the
    host has closed stdin and everything for it is written, before the backend
    lanes are taken down: a program that ends there (the CLI does) never waits
    on the backend.
    """
    backend = _backend(transport, call_timeout, identity_key)
    async with backend.running():
        stdin = anyio.wrap_file(_StdinLines(sys.stdin.buffer, first.line if first else b""))
        answered = first.answered_id if first else None
        async with (
            stdio_server(stdin=stdin) as (read_stream, write_stream),  # type: ignore[arg-type]
            _without_answer_to(answered, write_stream) as writes,
        ):
            await _serve_front(backend, read_stream, writes, call_timeout=call_timeout)
        if on_stdin_closed is not None:
            on_stdin_closed()


async def serve_streams(
    transport: Transport,
    read_stream: SessionReadStream,
    write_stream: SessionWriteStream,
    *,
    call_timeout: float | None = 120.0,
) -> None:
    """Serve one front client on a stream pair (stdio, or any other duplex pipe)."""
    backend = _backend(transport, call_timeout, None)
    async with backend.running():
        await _serve_front(backend, read_stream, write_stream, call_timeout=call_timeout)


def _backend(transport: Transport, call_timeout: float | None, identity_key: str | None) -> Backend:
    """A backend for a front that answers ``initialize`` itself, remembering the backend's identity."""
    if identity_key is None:
        return Backend(transport, handshakes_itself=True, open_timeout=call_timeout)

    async def remember(result: dict[str, Any]) -> None:
        identity = identity_of(result)
        if identity is not None and identity != backend.identity:
            await anyio.to_thread.run_sync(save_identity, identity_key, identity)

    backend = Backend(
        transport,
        handshakes_itself=True,
        open_timeout=call_timeout,
        identity=load_identity(identity_key),
        on_initialized=remember,
    )
    return backend


async def _serve_front(
    backend: Backend,
    read_stream: SessionReadStream,
    write_stream: SessionWriteStream,
    *,
    call_timeout: float | None,
) -> None:
    server = proxy_server(backend, call_timeout=call_timeout)
    async with server.lifespan(server) as lifespan_state:
        logger.info("proxying stdio to %s", backend.transport.describe())
        await serve_dual_era_loop(
            server,
            read_stream,
            write_stream,
            lifespan_state=lifespan_state,
            init_options=server.create_initialization_options(),
        )


class _StdinLines:
    """Lines of the host's stdin as text, starting with one already read."""

    def __init__(self, buffer: IO[bytes], first: bytes) -> None:
        self._buffer = buffer
        self._first: bytes | None = first or None

    def readline(self) -> str:
        line, self._first = (self._first, None) if self._first is not None else (self._buffer.readline(), None)
        return line.decode("utf-8", errors="replace")


@asynccontextmanager
async def _without_answer_to(
    answered_id: str | int | None, write_stream: SessionWriteStream
) -> AsyncIterator[SessionWriteStream]:
    """`write_stream`, less the SDK's own answer to the ``initialize`` answered early (sent once already)."""
    if answered_id is None:
        yield write_stream
        return
    writes, reader = anyio.create_memory_object_stream[SessionMessage](0)

    async def relay() -> None:
        pending = True
        async with reader, write_stream:
            async for item in reader:
                message = item.message
                if pending and isinstance(message, (JSONRPCResponse, JSONRPCError)) and message.id == answered_id:
                    pending = False
                    if isinstance(message, JSONRPCError):
                        logger.warning("the host's initialize was refused after it was answered: %s", message.error)
                    continue
                await write_stream.send(item)

    async with anyio.create_task_group() as tg:
        tg.start_soon(relay)
        try:
            yield writes
        finally:
            writes.close()
