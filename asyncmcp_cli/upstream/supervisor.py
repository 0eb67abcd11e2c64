"""Keep the upstream connection alive: start it, notice it die, restart it with backoff.

- The first start must succeed (a wrong command, a server that cannot
  initialize): that error is raised to the caller, so ``asyncmcp serve``
  fails at once with the reason instead of serving a dead end.
- After that, when the connection is lost (the process exited or was killed,
  the HTTP server went away or forgot our session), the requests in flight on
  it fail at once with a JSON-RPC error (the SDK dispatcher settles every
  pending request when its connection closes), and the supervisor reconnects:
  after 0.5 s, doubling up to 30 s while the server keeps dying young, back to
  0.5 s once it has stayed up for a while.
- A request that arrives while the upstream is down waits for it up to
  ``ready_timeout`` seconds, then fails with the last error seen.
"""

from __future__ import annotations

import logging
import sys
import time

import anyio
import anyio.abc
import mcp_types as types
from mcp.shared.exceptions import MCPError

from asyncmcp_cli._groups import sole_exception
from asyncmcp_cli.errors import AsyncMCPError, ConfigurationError, TransportError
from asyncmcp_cli.protocol.relay import FrontRoutes
from asyncmcp_cli.upstream.link import SHARED_CAPABILITIES, Link, open_link
from asyncmcp_cli.upstream.target import UpstreamTarget, UrlTarget

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

logger = logging.getLogger(__name__)

MIN_BACKOFF = 0.5
MAX_BACKOFF = 30.0
STABLE_SECONDS = 10.0
"""A connection that lived this long resets the backoff."""


class Supervisor:
    """The one connection the queue clients share (all of them, or those without a link of their own)."""

    def __init__(
        self,
        target: UpstreamTarget,
        *,
        capabilities: types.ClientCapabilities = SHARED_CAPABILITIES,
        ready_timeout: float = 30.0,
        init_timeout: float = 60.0,
    ) -> None:
        self.target = target
        self.capabilities = capabilities
        self.routes = FrontRoutes(peer_name="the upstream server", standalone=False)
        self.restarts = 0
        self.last_error: str | None = None
        self._ready_timeout = ready_timeout
        self._init_timeout = init_timeout
        self.initialized: types.InitializeResult | None = None
        """What the upstream said about itself on its latest (or current) connection."""
        self._link: Link | None = None
        self._ready = anyio.Event()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Connect and keep reconnecting until cancelled; `task_status` reports the first connection."""
        delay = MIN_BACKOFF
        first = True
        while True:
            began = time.monotonic()
            try:
                async with open_link(
                    self.target, self.routes, capabilities=self.capabilities, init_timeout=self._init_timeout
                ) as link:
                    self._up(link)
                    if first:
                        first = False
                        task_status.started()
                    await link.wait_ended()
                    self._down()  # at once: closing the old connection may take a while
                    self.last_error = "the connection to it was lost"
            except Exception as exc:
                if first:
                    raise _start_error(self.target, exc) from exc
                self.last_error = describe_failure(exc)
            finally:
                self._down()
            if time.monotonic() - began >= STABLE_SECONDS:
                delay = MIN_BACKOFF
            self.restarts += 1
            logger.warning(
                "upstream server %s is down (%s); restarting in %.1fs", self.target.describe(), self.last_error, delay
            )
            await anyio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    def _up(self, link: Link) -> None:
        self._link = link
        self.initialized = link.initialized
        info = link.initialized.server_info
        logger.info("upstream server %s %s is up (%s)", info.name, info.version, self.target.describe())
        self._ready.set()

    def _down(self) -> None:
        self._link = None
        if self._ready.is_set():
            self._ready = anyio.Event()

    async def link(self) -> Link:
        """The live connection, waiting up to ``ready_timeout`` for one while the upstream restarts."""
        with anyio.move_on_after(self._ready_timeout):
            while self._link is None or not self._link.alive:
                await self._ready.wait()
        if self._link is None or not self._link.alive:
            raise MCPError(
                types.INTERNAL_ERROR,
                f"asyncmcp: the upstream server is not available ({self.last_error or 'starting'}); try again later",
            )
        return self._link


def _root(exc: BaseException) -> BaseException:
    return sole_exception(exc) if isinstance(exc, BaseExceptionGroup) else exc


def describe_failure(exc: BaseException) -> str:
    exc = _root(exc)
    if isinstance(exc, MCPError):
        if exc.error.code == types.CONNECTION_CLOSED:
            return "the connection closed before it answered initialize"
        return f"it answered initialize with an error: {exc.error.message}"
    return str(exc) or type(exc).__name__


def _start_error(target: UpstreamTarget, exc: Exception) -> AsyncMCPError:
    root = _root(exc)
    if isinstance(root, AsyncMCPError):
        return root
    reason = f"the upstream server {target.describe()} did not start: {describe_failure(root)}"
    return TransportError(reason) if isinstance(target, UrlTarget) else ConfigurationError(reason)
