"""One lane: a backend client session over an asyncmcp transport.

A lane is `transport.connect(client_id=...)` with the SDK's `JSONRPCDispatcher`
on top: the proxy sends a front client's requests through it and the
dispatcher matches the backend's answers. Each lane has its own client id, so
the backend server gives it its own SDK session and routes its replies to it
alone: answers for one front client cannot reach another.

The lane runs as a task in the proxy's task group (a transport connection is
an async context manager and must be entered and left by the same task); the
front only calls `request` / `notify` and `close`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.abc
from mcp.shared.dispatcher import CallOptions
from mcp.shared.jsonrpc_dispatcher import JSONRPCDispatcher

from asyncmcp_cli.protocol.relay import FrontRoutes
from asyncmcp_cli.transports.base import Transport

logger = logging.getLogger(__name__)


class Lane:
    """A backend client session, alive between `run` starting and `close`."""

    def __init__(self, transport: Transport, client_id: str, *, standalone: bool) -> None:
        self.client_id = client_id
        self.routes = FrontRoutes(peer_name="the backend", standalone=standalone)
        self.last_used = time.monotonic()
        self.spoiled = False
        """Set when a request on it was abandoned; a late answer could still arrive, so it is not reused."""
        self._transport = transport
        self._dispatcher: JSONRPCDispatcher[Any] | None = None
        self._stop = anyio.Event()

    @property
    def alive(self) -> bool:
        return self._dispatcher is not None and not self._stop.is_set()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Connect, report started, serve until `close()` or until the connection ends.

        A failure to connect is raised to whoever started the lane (`TaskGroup.start`).
        """
        try:
            async with self._transport.connect(client_id=self.client_id) as (read_stream, write_stream):
                dispatcher: JSONRPCDispatcher[Any] = JSONRPCDispatcher(read_stream, write_stream)
                async with anyio.create_task_group() as tg:

                    async def pump(*, task_status: anyio.abc.TaskStatus[None]) -> None:
                        await dispatcher.run(self.routes.on_request, self.routes.on_notify, task_status=task_status)
                        self._stop.set()  # the connection ended on its own

                    await tg.start(pump)
                    self._dispatcher = dispatcher
                    logger.debug("lane %s open", self.client_id)
                    task_status.started()
                    await self._stop.wait()
                    tg.cancel_scope.cancel()
        finally:
            self._stop.set()
            logger.debug("lane %s closed", self.client_id)

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        assert self._dispatcher is not None, "lane used before it started"
        self.last_used = time.monotonic()
        try:
            return await self._dispatcher.send_raw_request(method, params, opts)
        finally:
            self.last_used = time.monotonic()

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        assert self._dispatcher is not None, "lane used before it started"
        self.last_used = time.monotonic()
        await self._dispatcher.notify(method, params, opts)

    def close(self) -> None:
        """Leave the connection (the lane's task does, at once)."""
        self._stop.set()
