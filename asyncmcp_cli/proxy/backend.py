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
- A task created through a lane (the Tasks extension) is followed up under
  that lane's client id, to which the server binds it: see `task_lanes`.
- Opening a lane can fail (endpoint down, queue missing): that request gets a
  JSON-RPC error naming the cause, and the next request tries again.
- With `handshakes_itself` (the front answered ``initialize`` on its own), a
  connection's lane sends the client's ``initialize`` and
  ``notifications/initialized`` to the backend as it opens, and `open_soon`
  opens it in the background so the first request finds it ready.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
from mcp.server.connection import Connection
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from asyncmcp_cli.protocol.relay import Ctx, front_connection
from asyncmcp_cli.proxy.lane import Lane
from asyncmcp_cli.proxy.task_lanes import TaskLanes
from asyncmcp_cli.transports.base import NamingTransport, SharingTransport, Transport
from asyncmcp_cli.transports.queue_client import new_client_id

logger = logging.getLogger(__name__)

_LANE = "asyncmcp.proxy.lane"
_CLIENT_ID = "asyncmcp.proxy.client_id"
_LOCK = "asyncmcp.proxy.lock"
_INITIALIZED = "asyncmcp.proxy.backend_initialized"
_FAILED = "asyncmcp.proxy.open_failures"
"""(how many attempts to open the connection's lane failed, the last one's error)"""


class Backend:
    """The lanes of one proxy to the server behind its transport."""

    def __init__(
        self,
        transport: Transport,
        *,
        idle_seconds: float = 300.0,
        max_idle: int = 32,
        handshakes_itself: bool = False,
        open_timeout: float | None = None,
        identity: dict[str, Any] | None = None,
        on_initialized: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self.transport = transport
        self._new_client_id = transport.new_client_id if isinstance(transport, NamingTransport) else new_client_id
        """Each lane's fresh client id, in the form the transport needs (e.g. under an SNS filter prefix)."""
        self.handshakes_itself = handshakes_itself
        self.identity = identity
        """What the front answers ``initialize`` with, when it answers itself (see `early`)."""
        self._on_initialized = on_initialized
        self._open_timeout = open_timeout
        self._idle_seconds = idle_seconds
        self._max_idle = max_idle
        self._idle: list[Lane] = []
        self._tg: anyio.abc.TaskGroup | None = None
        self.tasks = TaskLanes(lambda client_id: self._open(client_id, standalone=False))
        """Which lane a task's requests go out on (tools/call results are noted by the forwarder)."""

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
                self.tasks.close()
                tg.cancel_scope.cancel()

    @asynccontextmanager
    async def lane(self, ctx: Ctx) -> AsyncIterator[Lane]:
        """The lane for one front request: its connection's own, or one borrowed for its duration."""
        connection = front_connection(ctx)
        if connection is not None and connection.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            yield await self._session_lane(connection)
            return
        owner = self.tasks.owner_of(ctx.method, ctx.params)
        if owner is not None:
            async with self.tasks.lane(owner) as lane:
                yield lane
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

    def open_soon(self, ctx: Ctx) -> None:
        """Start opening the connection's lane in the background (a failure waits for the next request)."""
        connection = front_connection(ctx)
        if connection is None or self._tg is None:
            return

        async def open_quietly() -> None:
            try:
                await self._session_lane(connection)
            except MCPError as exc:
                logger.debug("the backend lane did not open ahead of time: %s", exc.error.message)

        self._tg.start_soon(open_quietly)

    # -- session lanes -----------------------------------------------------

    async def _session_lane(self, connection: Connection) -> Lane:
        """The connection's lane, opened if need be.

        A request that waited while an attempt to open it failed gets that
        failure rather than starting a second attempt; later ones try again.
        """
        lock = connection.state.setdefault(_LOCK, anyio.Lock())
        failed_before, _ = connection.state.get(_FAILED, (0, None))
        async with lock:
            lane = connection.state.get(_LANE)
            if isinstance(lane, Lane) and lane.alive:
                return lane
            failed, last_error = connection.state.get(_FAILED, (0, None))
            if failed > failed_before and last_error is not None:
                raise MCPError(last_error.code, last_error.message)
            if _CLIENT_ID not in connection.state:
                connection.state[_CLIENT_ID] = self._new_client_id()
                connection.exit_stack.push_async_callback(self._end_session, connection)
            try:
                lane = await self._open(connection.state[_CLIENT_ID], standalone=True)
                if self.handshakes_itself and not connection.state.get(_INITIALIZED):
                    await self._initialize(lane, connection)
                    connection.state[_INITIALIZED] = True
            except MCPError as exc:
                connection.state[_FAILED] = (failed + 1, exc.error)
                raise
            connection.state[_LANE] = lane
            return lane

    async def _initialize(self, lane: Lane, connection: Connection) -> None:
        """Give the backend the client's own handshake (the front answered it already)."""
        params = connection.client_params
        if params is None:
            raise MCPError(types.INVALID_REQUEST, "asyncmcp: the client has not sent initialize")
        try:
            with anyio.fail_after(self._open_timeout):
                result = await lane.send_raw_request(
                    "initialize",
                    params.model_dump(by_alias=True, mode="json", exclude_none=True),
                    {"cancel_on_abandon": False},
                )
            await lane.notify("notifications/initialized", None)
            if self._on_initialized is not None:
                await self._on_initialized(result)
        except BaseException as exc:
            lane.close()
            if isinstance(exc, TimeoutError):
                raise MCPError(
                    types.REQUEST_TIMEOUT,
                    f"asyncmcp: cannot reach the backend: no answer to initialize within {self._open_timeout:g}s",
                ) from None
            if isinstance(exc, MCPError):
                raise MCPError(
                    exc.error.code, f"asyncmcp: the backend refused initialize: {exc.error.message}"
                ) from None
            raise

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
        return await self._open(self._new_client_id(), standalone=False)

    def _give_back(self, lane: Lane) -> None:
        if self.tasks.keeps(lane):
            return
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
            self.tasks.reap(self._idle_seconds)

    # -- opening -------------------------------------------------------------

    async def _open(self, client_id: str, *, standalone: bool) -> Lane:
        """A connected lane, or an `MCPError` naming why not within `open_timeout`.

        The lane connects on a task of its own that the caller only waits for:
        a connection attempt stuck in a blocking call (an endpoint that never
        answers) cannot hold the caller past its deadline. Such a lane is told
        to close and goes as soon as its attempt ends.
        """
        if self._tg is None:
            raise MCPError(types.CONNECTION_CLOSED, "asyncmcp: the proxy is shutting down")
        lane = Lane(self.transport, client_id, standalone=standalone)
        opening = _Opening()
        self._tg.start_soon(self._run_lane, lane, opening)
        try:
            with anyio.move_on_after(self._open_timeout):
                await opening.done.wait()
        except BaseException:
            lane.close()
            raise
        if not opening.done.is_set():
            lane.close()
            logger.warning("cannot reach the backend: no connection within %gs", self._open_timeout)
            raise MCPError(
                types.REQUEST_TIMEOUT,
                f"asyncmcp: cannot reach the backend: no connection within {self._open_timeout:g}s",
            )
        if opening.error is not None or not lane.alive:
            reason = opening.error or "the connection closed as it opened"
            logger.warning("cannot reach the backend: %s", reason)
            raise MCPError(types.INTERNAL_ERROR, f"asyncmcp: cannot reach the backend: {reason}")
        return lane

    @staticmethod
    async def _run_lane(lane: Lane, opening: _Opening) -> None:
        try:
            await lane.run(task_status=opening)
        except Exception as exc:
            if opening.done.is_set():
                logger.warning("backend lane %s ended: %s", lane.client_id, exc)
            opening.error = exc
        finally:
            opening.done.set()


class _Opening:
    """The `TaskStatus` a lane reports its start to: set once it is connected or has failed."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.error: Exception | None = None

    def started(self, value: object = None) -> None:
        self.done.set()
