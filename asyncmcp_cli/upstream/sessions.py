"""Upstream links of their own for the front clients that can receive server requests.

Why: a server shapes what it offers on the capabilities its client declared
in ``initialize`` (server-everything lists ``get-roots-list`` only to a client
with roots, ``trigger-sampling-request`` only to one with sampling), and what
it starts on its own (sampling, elicitation, roots requests) carries nothing
on the wire that says which of several calls in flight caused it. A link
opened for one client settles both: the upstream sees that client's
capabilities, and everything it starts on that link belongs to that client.

Who gets one (``--upstream-sessions per-client``, the default): a
handshake-era client that declares sampling, elicitation or roots. Everyone
else shares the supervised link, which then declares none of the three: a
2026-07-28 client (the protocol forbids server requests to it, and its
multi-round-trip replacement is not relayed), or a client declaring none of
them. So the upstream offers each client what can work for it.

What it costs: a link is a new connection and handshake, for a stdio
COMMAND a child process of its own, opened on the client's first forwarded
request (which waits for the start-up). At most `max_sessions` links are
open; a new one closes the least recently used idle link, and when every link
is busy the request gets a JSON-RPC error. A link closes when its client's
connection ends or after `idle_timeout` seconds without a request; a link
whose connection dies is reopened on the client's next request.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.abc
import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from asyncmcp_cli.protocol.relay import Ctx, FrontRoutes, FrontSession, front_session
from asyncmcp_cli.upstream.link import Link, open_link
from asyncmcp_cli.upstream.supervisor import describe_failure
from asyncmcp_cli.upstream.target import UpstreamTarget

logger = logging.getLogger(__name__)

DEFAULT_MAX_SESSIONS = 8
DEFAULT_IDLE_TIMEOUT = 300.0
_CLOSE_ON_END = "asyncmcp.upstream.closes_client_link"
"""Marks (in `FrontSession.state`) a front session whose end already closes its link."""


def relayable_capabilities(ctx: Ctx) -> tuple[FrontSession, types.ClientCapabilities] | None:
    """The front session and the capabilities worth a link of its own, or None to share.

    Only what we can carry back to this client counts: sampling, elicitation
    and roots, and only in a session with a channel for server requests.
    """
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return None
    connection = front_session(ctx)
    if connection is None or not connection.has_standalone_channel:
        return None
    declared = ctx.session.client_capabilities
    if declared is None or (declared.sampling is None and declared.elicitation is None and declared.roots is None):
        return None
    return connection, types.ClientCapabilities(
        sampling=declared.sampling, elicitation=declared.elicitation, roots=declared.roots
    )


@dataclass(eq=False)
class _ClientLink:
    routes: FrontRoutes
    capabilities: types.ClientCapabilities
    link: Link | None = None
    error: str | None = None
    busy: int = 0
    closed: bool = False
    last_used: float = field(default_factory=time.monotonic)
    settled: anyio.Event = field(default_factory=anyio.Event)
    """Set once the link is up, or failed to come up."""

    @property
    def usable(self) -> bool:
        return not self.closed and (self.link is None or self.link.alive)


class ClientLinks:
    """The per-client links, least recently used first."""

    def __init__(
        self,
        target: UpstreamTarget,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        init_timeout: float = 60.0,
    ) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.target = target
        self.max_sessions = max_sessions
        self._idle_timeout = idle_timeout
        self._init_timeout = init_timeout
        self._links: OrderedDict[FrontSession, _ClientLink] = OrderedDict()
        self._tg: anyio.abc.TaskGroup | None = None

    @property
    def open_count(self) -> int:
        return len(self._links)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Own the links' tasks and close idle links, until cancelled."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            while True:
                await anyio.sleep(min(self._idle_timeout / 2, 30.0))
                now = time.monotonic()
                for connection, client_link in list(self._links.items()):
                    if client_link.busy == 0 and now - client_link.last_used >= self._idle_timeout:
                        logger.info("closing an upstream session idle for %.0fs", now - client_link.last_used)
                        self.close(connection)

    def live_link(self, connection: FrontSession | None) -> Link | None:
        """The connection's open link, if it has one."""
        client_link = self._links.get(connection) if connection is not None else None
        if client_link is None or client_link.link is None or not client_link.usable:
            return None
        return client_link.link

    @asynccontextmanager
    async def using(
        self, ctx: Ctx, connection: FrontSession, capabilities: types.ClientCapabilities
    ) -> AsyncIterator[tuple[Link, FrontRoutes]]:
        """The client's own link (opened if need be) and its routes, held busy for the block."""
        client_link = self._links.get(connection)
        if client_link is not None and not client_link.usable:
            self.close(connection)
            client_link = None
        if client_link is None:
            client_link = self._open(ctx, connection, capabilities)
        self._links.move_to_end(connection)
        client_link.busy += 1
        try:
            await client_link.settled.wait()
            if client_link.link is None:
                raise MCPError(
                    types.INTERNAL_ERROR,
                    f"asyncmcp: the upstream server did not start a session for this client: {client_link.error}",
                )
            yield client_link.link, client_link.routes
        finally:
            client_link.busy -= 1
            client_link.last_used = time.monotonic()

    def close(self, connection: FrontSession) -> None:
        """End the connection's link, if it has one (requests still on it fail at once)."""
        client_link = self._links.pop(connection, None)
        if client_link is None:
            return
        client_link.closed = True
        if client_link.link is not None:
            client_link.link.end()

    def _open(self, ctx: Ctx, connection: FrontSession, capabilities: types.ClientCapabilities) -> _ClientLink:
        assert self._tg is not None, "run() the links first"
        self._make_room()
        routes = FrontRoutes(peer_name="the upstream server", standalone=True, session=ctx.session)
        client_link = _ClientLink(routes, capabilities)
        self._links[connection] = client_link
        if not connection.state.get(_CLOSE_ON_END):
            connection.state[_CLOSE_ON_END] = True
            connection.exit_stack.callback(self.close, connection)
        self._tg.start_soon(self._hold, connection, client_link)
        return client_link

    def _make_room(self) -> None:
        while len(self._links) >= self.max_sessions:
            idle = next((conn for conn, client_link in self._links.items() if client_link.busy == 0), None)
            if idle is None:
                raise MCPError(
                    types.INTERNAL_ERROR,
                    f"asyncmcp: all {self.max_sessions} upstream sessions are busy "
                    "(serve --upstream-max-sessions); try again later",
                )
            logger.info("closing the least recently used upstream session to open a new one")
            self.close(idle)

    async def _hold(self, connection: FrontSession, client_link: _ClientLink) -> None:
        """Open the link, keep it until it ends or is closed, then forget it."""
        try:
            async with open_link(
                self.target, client_link.routes, capabilities=client_link.capabilities, init_timeout=self._init_timeout
            ) as link:
                client_link.link = link
                client_link.settled.set()
                logger.info("opened an upstream session for one client (%d open)", len(self._links))
                if client_link.closed:
                    link.end()
                await link.wait_ended()
        except Exception as exc:
            client_link.error = describe_failure(exc)
            logger.warning("an upstream session for one client ended: %s", client_link.error)
        finally:
            client_link.closed = True
            client_link.settled.set()
            if self._links.get(connection) is client_link:
                del self._links[connection]
