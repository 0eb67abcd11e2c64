"""Tasks through the proxy: a task's later requests go out under the client id that created it.

A stateless front request borrows any pooled lane, and every lane has its own
client id. The server binds a task to the client id of the ``tools/call`` that
created it (another client's task id reads as unknown), so ``tasks/get``,
``tasks/update`` and ``tasks/cancel`` must reach it under that same id. This
remembers, for each task a lane's ``tools/call`` created, which client id that
was; keeps such a lane out of the general pool (two live connections under one
client id would take each other's replies off the queue); and serves the
task's requests on it, one at a time, reopening it under the same id if it was
closed in the meantime.

What the proxy remembers lives in its memory, bounded: a task started through
a proxy that has since restarted reads as unknown through the new one.
Everything else (a front client that does not declare the extension, tools the
server does not run as tasks) is forwarded as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio

from asyncmcp_cli.proxy.lane import Lane
from asyncmcp_cli.tasks import wire

MAX_TASKS = 10_000
"""Tasks remembered; the oldest are forgotten first."""


class TaskLanes:
    def __init__(self, open_lane: Callable[[str], Awaitable[Lane]], *, max_tasks: int = MAX_TASKS) -> None:
        self._open_lane = open_lane
        self._max_tasks = max_tasks
        self._owners: OrderedDict[str, str] = OrderedDict()
        """task id -> the client id whose tools/call created it."""
        self._lanes: dict[str, Lane] = {}
        self._locks: dict[str, anyio.Lock] = {}

    def owner_of(self, method: str, params: Mapping[str, Any] | None) -> str | None:
        """The client id to send a task request under, if it names a task created through this proxy."""
        if method not in wire.TASK_METHODS or not isinstance(params, Mapping):
            return None
        task_id = params.get("taskId")
        return self._owners.get(task_id) if isinstance(task_id, str) else None

    def note(self, method: str, lane: Lane, result: Mapping[str, Any]) -> None:
        """Remember the owner of a task a ``tools/call`` on `lane` just created."""
        if method != wire.METHOD_TOOLS_CALL or not wire.is_create_task_result(result):
            return
        task_id = result.get("taskId")
        if not isinstance(task_id, str) or len(task_id) > wire.MAX_TASK_ID_LENGTH:
            return
        self._owners[task_id] = lane.client_id
        self._owners.move_to_end(task_id)
        while len(self._owners) > self._max_tasks:
            self._owners.popitem(last=False)

    def keeps(self, lane: Lane) -> bool:
        """Whether `lane` is now a task owner's lane (kept here, not given back to the pool)."""
        if lane.client_id not in self._owners.values():
            return False
        if lane.spoiled or not lane.alive:
            lane.close()
        elif self._lanes.get(lane.client_id) is not lane:
            previous = self._lanes.pop(lane.client_id, None)
            if previous is not None:
                previous.close()
            self._lanes[lane.client_id] = lane
        return True

    @asynccontextmanager
    async def lane(self, owner: str) -> AsyncIterator[Lane]:
        """The owner's lane for one request (opened again if it was closed), one request at a time."""
        lock = self._locks.setdefault(owner, anyio.Lock())
        async with lock:
            lane = self._lanes.get(owner)
            if lane is None or not lane.alive:
                lane = await self._open_lane(owner)
                self._lanes[owner] = lane
            try:
                yield lane
            except BaseException:
                lane.close()  # an abandoned request's late answer must not meet the next one
                raise

    def reap(self, idle_seconds: float) -> None:
        """Close owner lanes idle for `idle_seconds` (they reopen on demand)."""
        cutoff = time.monotonic() - idle_seconds
        for owner, lane in list(self._lanes.items()):
            if lane.last_used < cutoff and not self._locks.get(owner, anyio.Lock()).locked():
                lane.close()
                del self._lanes[owner]

    def close(self) -> None:
        for lane in self._lanes.values():
            lane.close()
        self._lanes.clear()
