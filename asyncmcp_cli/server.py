"""Run an SDK server over any transport: one SDK session per connected client.

The server's lifespan is entered once and shared by every session, as the
SDK's own streamable-HTTP manager does.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
from mcp.server.lowlevel.server import Server
from mcp.server.runner import serve_dual_era_loop

from asyncmcp_cli.observability import recorder
from asyncmcp_cli.transports.base import (
    CLIENT_ID,
    SESSION,
    Connection,
    HostingTransport,
    Listener,
    SessionScope,
    Transport,
)

logger = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 30.0

T = TypeVar("T")


async def serve(
    server: Server[Any],
    transport: Transport,
    *,
    shutdown: anyio.Event | None = None,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Serve until `shutdown` is set (forever when None); return unfinished requests.

    Shutting down stops intake, gives running requests `grace_seconds` to
    finish, then leaves the rest to the channel for redelivery.
    """
    shutdown = shutdown or anyio.Event()
    init_options = server.create_initialization_options()
    async with (
        _listening(server, transport) as (lifespan_state, listener),
        anyio.create_task_group() as sessions,
    ):

        async def run_session(connection: Connection) -> None:
            CLIENT_ID.set(connection.client_id)  # this session's own task: its requests see it
            scope = SessionScope(connection.client_id)
            SESSION.set(scope)
            try:
                await serve_dual_era_loop(
                    server,
                    connection.read_stream,
                    connection.write_stream,
                    lifespan_state=lifespan_state,
                    init_options=init_options,
                )
            finally:
                with anyio.CancelScope(shield=True):
                    await scope.exit_stack.aclose()

        async def accept() -> None:
            async for connection in listener:
                sessions.start_soon(run_session, connection)

        sessions.start_soon(accept)
        recorder.current().intake.listening()
        if on_ready is not None:  # the caller announces it (the CLI prints one line); the log would repeat it
            logger.debug("serving %s", transport.describe())
            on_ready()
        else:
            logger.info("serving %s", transport.describe())
        await shutdown.wait()
        recorder.current().intake.stopped()
        logger.info("shutting down: waiting up to %.0fs for running requests", grace_seconds)
        unfinished = await listener.drain(grace_seconds)
        if unfinished:
            logger.warning("%d request(s) unfinished; left on the channel for redelivery", unfinished)
        sessions.cancel_scope.cancel()
    return unfinished


@asynccontextmanager
async def _listening(server: Server[Any], transport: Transport) -> AsyncIterator[tuple[Any, Listener]]:
    """(lifespan state, listener); a `HostingTransport` runs the server (and its lifespan) itself."""
    if isinstance(transport, HostingTransport):
        async with transport.host_server(server) as listener:
            yield None, listener
        return
    async with server.lifespan(server) as lifespan_state, transport.listen() as listener:
        yield lifespan_state, listener


async def serve_until_signalled(server: Server[Any], transport: Transport, **kwargs: Any) -> int:
    """`serve` that shuts down gracefully on SIGINT or SIGTERM."""
    return await until_signalled(lambda shutdown: serve(server, transport, shutdown=shutdown, **kwargs))


async def until_signalled(run: Callable[[anyio.Event], Awaitable[T]], *, stopping: str = "") -> T:
    """`run(shutdown)`, with `shutdown` set on the first SIGINT or SIGTERM (logged, with `stopping` after it)."""
    shutdown = anyio.Event()

    async def watch_signals() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                logger.info("received %s%s", signal.Signals(signum).name, stopping)
                shutdown.set()
                return

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_signals)
        outcome = await run(shutdown)
        tg.cancel_scope.cancel()
    return outcome
