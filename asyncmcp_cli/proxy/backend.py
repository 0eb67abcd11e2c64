"""Which backend lane serves a front request.

- A handshake-era front connection (an HTTP session with its
  ``Mcp-Session-Id``, a desktop host on stdio) gets a lane of its own for its
  whole life: its ``initialize`` and the session the backend keeps for it live
  there. The lane closes when the front connection ends (DELETE, idle expiry,
  end of stdin). Should the lane's connection drop, the next request reopens
  it under the same client id, so the backend's session simply continues.
- A 2026-07-28 (stateless) request is self-contained: it borrows an idle lane
  from a pool for its duration, one request per lane at a time (so whatever
  the backend sends during it belongs to it), and gives it back after. A lane
  whose request was abandoned (timed out, cancelled) is closed, not reused.
- Opening a lane can fail (endpoint down, queue missing): that request gets a
  JSON-RPC error naming the cause, and the next request tries again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

import anyio
import anyio.abc
import mcp_types as types
from mcp.server.connection import Connection
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from asyncmcp_cli.proxy.lane import Lane
from asyncmcp_cli.relay import Ctx, front_connection
from asyncmcp_cli.transports.base import SharingTransport, Transport
from asyncmcp_cli.transports.queue_client import new_client_id

logger = logging.getLogger(__name__)

_LANE = "asyncmcp.proxy.lane"
_CLIENT_ID = "asyncmcp.proxy.client_id"
_LOCK = "asyncmcp.proxy.lock"


class Backend:
    """The lanes of one proxy to the server behind its transport."""

    def __init__(self, transport: Transport, *, idle_seconds: float = 300.0, max_idle: int = 32) -> None:
        self.transport = transport
        self._idle_seconds = idle_seconds
        self._max_idle = max_idle
        self._idle: list[Lane] = []
        self._tg: anyio.abc.TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Backend]:
        """Open lanes while the block runs; their clients share what the transport lets them share."""
        sharing = self.transport.clients() if isinstance(self.transport, SharingTransport) else nullcontext()
        async with sharing, anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._reap_idle)
            try:
                yield self
            finally:
                self._tg = None
                self._idle.clear()
                tg.cancel_scope.cancel()

    @asynccontextmanager
    async def lane(self, ctx: Ctx) -> AsyncIterator[Lane]:
        """The lane for one front request: its connection's own, or one borrowed for its duration."""
        connection = front_connection(ctx)
        if connection is not None and connection.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            yield await self._session_lane(connection)
            return
        lane = await self._borrow()
        try:
            yield lane
        except MCPError as exc:
            if exc.error.code == types.REQUEST_TIMEOUT:
                lane.spoiled = True  # the answer may still come, and must not meet the next borrower
            raise
        except BaseException:
            lane.spoiled = True  # cancelled: likewise
            raise
        finally:
            self._give_back(lane)

    def existing_session_lane(self, ctx: Ctx) -> Lane | None:
        """The lane a handshake-era connection already has, if any (for forwarding its notifications)."""
        connection = front_connection(ctx)
        lane = connection.state.get(_LANE) if connection is not None else None
        return lane if isinstance(lane, Lane) and lane.alive else None

    # -- session lanes -----------------------------------------------------

    async def _session_lane(self, connection: Connection) -> Lane:
        lock = connection.state.setdefault(_LOCK, anyio.Lock())
        async with lock:
            lane = connection.state.get(_LANE)
            if isinstance(lane, Lane) and lane.alive:
                return lane
            if _CLIENT_ID not in connection.state:
                connection.state[_CLIENT_ID] = new_client_id()
                connection.exit_stack.push_async_callback(self._end_session, connection)
            lane = await self._open(connection.state[_CLIENT_ID], standalone=True)
            connection.state[_LANE] = lane
            return lane

    async def _end_session(self, connection: Connection) -> None:
        lane = connection.state.pop(_LANE, None)
        if isinstance(lane, Lane):
            lane.close()

    # -- pooled lanes --------------------------------------------------------

    async def _borrow(self) -> Lane:
        while self._idle:
            lane = self._idle.pop()
            if lane.alive:
                return lane
        return await self._open(new_client_id(), standalone=False)

    def _give_back(self, lane: Lane) -> None:
        if lane.spoiled or not lane.alive or len(self._idle) >= self._max_idle or self._tg is None:
            lane.close()
            return
        self._idle.append(lane)

    async def _reap_idle(self) -> None:
        if math.isinf(self._idle_seconds):
            return
        while True:
            await anyio.sleep(min(30.0, self._idle_seconds / 2))
            cutoff = time.monotonic() - self._idle_seconds
            for lane in [lane for lane in self._idle if lane.last_used < cutoff]:
                self._idle.remove(lane)
                lane.close()

    # -- opening -------------------------------------------------------------

    async def _open(self, client_id: str, *, standalone: bool) -> Lane:
        if self._tg is None:
            raise MCPError(types.CONNECTION_CLOSED, "asyncmcp: the proxy is shutting down")
        lane = Lane(self.transport, client_id, standalone=standalone)
        try:
            await self._tg.start(lane.run)
        except Exception as exc:
            logger.warning("cannot reach the backend: %s", exc)
            raise MCPError(types.INTERNAL_ERROR, f"asyncmcp: cannot reach the backend: {exc}") from None
        return lane
