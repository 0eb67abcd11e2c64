"""Run an ASGI app on uvicorn inside the caller's task group.

The socket is bound before uvicorn starts, so port 0 gives an ephemeral port
whose number is known at once, and a port in use is a clear error rather than
uvicorn's ``sys.exit``. uvicorn's own signal handling is switched off: the
program embedding it (``asyncmcp serve``, a client, a test) owns SIGINT and
SIGTERM. On exit uvicorn stops accepting, lets running requests finish for
`graceful_seconds`, then cancels them.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import uvicorn
from starlette.types import ASGIApp

from asyncmcp_cli.errors import ConfigurationError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bound:
    """Where a server ended up listening."""

    host: str
    port: int

    @property
    def authority(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.authority}{path}"


def parse_host_port(text: str, *, default_port: int = 0) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT``, ``:PORT`` (127.0.0.1) or ``HOST`` (default port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    host = host or "127.0.0.1"
    if port_text and not port_text.isdigit():
        raise ConfigurationError(f"{text!r} is not HOST:PORT")
    port = int(port_text) if port_text else default_port
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"port {port} is out of range")
    return host, port


def bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}") from exc
    sock.setblocking(False)
    return sock


class _EmbeddedServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the embedding program handles signals

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@asynccontextmanager
async def serve_asgi(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    graceful_seconds: float = 3.0,
) -> AsyncIterator[Bound]:
    """Serve `app` on ``host:port`` for the duration of the block; yields the bound address."""
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        lifespan="off",
        http="h11",
        ws="none",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=max(1, round(graceful_seconds)),
    )
    server = _EmbeddedServer(config)
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()
            stopped.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(10):
            await _first(server.ready, stopped)
        if not server.ready.is_set():
            raise ConfigurationError(f"the HTTP server on {host}:{port} did not start")
        logger.debug("listening on %s:%s", bound_host, bound_port)
        try:
            yield Bound(bound_host, bound_port)
        finally:
            server.should_exit = True
            with anyio.CancelScope(shield=True), anyio.move_on_after(graceful_seconds + 2):
                await stopped.wait()
            tg.cancel_scope.cancel()


async def _first(*events: anyio.Event) -> None:
    async with anyio.create_task_group() as tg:

        async def wait(event: anyio.Event) -> None:
            await event.wait()
            tg.cancel_scope.cancel()

        for event in events:
            tg.start_soon(wait, event)
