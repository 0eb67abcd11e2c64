"""``subscriptions/listen`` for ``notifications/tasks``: a client hears of its own tasks' changes.

The Tasks extension (``specification/draft/tasks.md``, "Task Status
Notifications") has clients "send a `subscriptions/listen` request to the
server including a list of task IDs the client is interested in"
(``params.notifications.taskIds``); the acknowledgement names the ids the
server agreed to, and each ``notifications/tasks`` carries the whole
``DetailedTask``, as ``tasks/get`` would show it.

The SDK serves ``subscriptions/listen`` (its ``ListenHandler``) for a fixed set
of change events only, and drops ``taskIds`` from its acknowledgement, so the
tasks middleware serves a listen request that names task ids itself, before the
SDK looks the method up; any other listen request goes on to the server's own
handler (or ``-32601`` where there is none), untouched. Served here:

1. ``-32021`` if the request does not declare the tasks extension, ``-32602``
   for a malformed ``taskIds`` or more than `MAX_TASK_IDS` of them.
2. Agreed to: the ids of the caller's own unexpired tasks. Another client's
   task, an unknown id and an expired task are all left out alike, so the
   acknowledgement never reveals that another client's task exists. Other kinds
   named in the same request are not served on this stream (the acknowledgement
   leaves them out; a client opens another listen for them).
3. On the listen request's own stream (to the caller's reply address), each
   frame stamped with ``_meta["io.modelcontextprotocol/subscriptionId"]`` (the
   request's id): the acknowledgement, then each agreed task's state now, then
   one notification per change of status (a new round of input requests
   counts), never progress or log messages.
4. Changes made in this process arrive at once (`TaskRuntime.events`); those
   made by another process sharing the store are found by reading the store
   again every poll interval (within `RECHECK_SECONDS`).
5. The stream ends with the ``SubscriptionsListenResult`` once every agreed
   task is terminal or gone (nothing more can change), or when the client
   cancels its request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import SUBSCRIPTION_ID_META_KEY

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.record import TaskRecord
from asyncmcp_cli.tasks.runtime import TaskLookupError, TaskRuntime

logger = logging.getLogger(__name__)

METHOD_SUBSCRIPTIONS_LISTEN = "subscriptions/listen"
FILTER_TASK_IDS = "taskIds"
MAX_TASK_IDS = 100
"""Task ids one listen request may name."""
MAX_STREAMS = 32
"""Task listen streams one server process keeps open at once.

An open stream is a request still running: its queue message stays unsettled and
counts against the listener's ``max_in_flight`` (64 by default) until the stream
ends, which may be hours. Unbounded streams would let anyone who can write to the
request queue stop the server's intake for every client, so streams get at most
half of the default in-flight budget."""
MAX_STREAMS_PER_CLIENT = 4
"""Task listen streams one client id may hold open at once; one stream names up to `MAX_TASK_IDS` tasks."""
RECHECK_SECONDS = (0.5, 30.0)
"""Bounds of how often a stream reads its tasks from the store again (the runtime's poll interval)."""


def asks_for_tasks(params: Any) -> bool:
    """Whether a ``subscriptions/listen`` request's filter names any task ids (then it is served here)."""
    notifications = params.get("notifications") if isinstance(params, Mapping) else None
    return isinstance(notifications, Mapping) and bool(notifications.get(FILTER_TASK_IDS))


def requested_task_ids(params: Mapping[str, Any]) -> list[str]:
    """The distinct task ids of the filter, in order; ``-32602`` for anything else."""
    ids = params["notifications"][FILTER_TASK_IDS]
    if not isinstance(ids, list) or not all(isinstance(task_id, str) for task_id in ids):
        raise MCPError(types.INVALID_PARAMS, "notifications.taskIds must be a list of task ids")
    distinct = list(dict.fromkeys(ids))
    if len(distinct) > MAX_TASK_IDS:
        raise MCPError(types.INVALID_PARAMS, f"notifications.taskIds may name at most {MAX_TASK_IDS} tasks")
    return distinct


def _signature(record: TaskRecord) -> tuple[str, int]:
    """What a listener is told about: the status, and each new round of input requests."""
    return record.status, record.input_round


class TaskListening:
    """Serves the task listen streams of one server process."""

    def __init__(self, runtime: TaskRuntime) -> None:
        self.runtime = runtime
        self.open_streams = 0
        self._per_client: dict[str, int] = {}

    async def serve(self, ctx: Any, task_ids: list[str], owner: str) -> dict[str, Any]:
        """Serve one listen stream for `owner`'s tasks among `task_ids`; return its closing result."""
        if ctx.request_id is None:
            raise MCPError(types.INVALID_REQUEST, "subscriptions/listen requires a request id")
        if self.open_streams >= MAX_STREAMS:
            raise MCPError(types.INTERNAL_ERROR, "Subscription limit reached")
        if self._per_client.get(owner, 0) >= MAX_STREAMS_PER_CLIENT:
            raise MCPError(
                types.INTERNAL_ERROR,
                f"Subscription limit reached: at most {MAX_STREAMS_PER_CLIENT} task listen streams per client; "
                f"one stream can name up to {MAX_TASK_IDS} tasks",
            )
        stream = _Stream(self.runtime, ctx, owner)
        # Listen before reading, so a change written between the read and the ack is not missed.
        unsubscribe = self.runtime.events.subscribe(stream.heard_of(set(task_ids)))
        self.open_streams += 1
        self._per_client[owner] = self._per_client.get(owner, 0) + 1
        try:
            await stream.run(task_ids)
        finally:
            unsubscribe()
            self.open_streams -= 1
            if (left := self._per_client.pop(owner) - 1) > 0:
                self._per_client[owner] = left
        return types.SubscriptionsListenResult(_meta=stream.meta).model_dump(
            by_alias=True, mode="json", exclude_none=True
        )


class _Stream:
    def __init__(self, runtime: TaskRuntime, ctx: Any, owner: str) -> None:
        self.runtime = runtime
        self.ctx = ctx
        self.owner = owner
        self.meta: dict[str, Any] = {SUBSCRIPTION_ID_META_KEY: ctx.request_id}
        self.told: dict[str, tuple[str, int]] = {}
        """The open (non-terminal) tasks agreed to, and what the client was last told of each."""
        self.seen_version: dict[str, int] = {}
        """The newest version of each task looked at, so an older write heard late is never told after a newer one."""
        self._heard: dict[str, TaskRecord] = {}
        self._wake = anyio.Event()
        low, high = RECHECK_SECONDS
        self.recheck_seconds = min(max(runtime.poll_interval_ms / 1000, low), high)

    def heard_of(self, wanted: set[str]) -> Any:
        def listener(record: TaskRecord) -> None:
            if record.task_id in wanted and record.owner == self.owner:
                self._heard[record.task_id] = record
                self._wake.set()

        return listener

    async def run(self, task_ids: list[str]) -> None:
        agreed = [record for record in await self._current(task_ids) if record is not None]
        await self._acknowledge([record.task_id for record in agreed])
        await self._tell(agreed)
        recheck_at = anyio.current_time() + self.recheck_seconds
        while self.told:
            with anyio.move_on_after(max(recheck_at - anyio.current_time(), 0)):
                await self._wake.wait()
            self._wake = anyio.Event()
            heard, self._heard = self._heard, {}
            # Read the store again on a fixed beat, however often this process writes (progress notes, lease
            # renewals wake the stream too): another process sharing the store may have changed any of them.
            if anyio.current_time() >= recheck_at:
                recheck_at = anyio.current_time() + self.recheck_seconds
                open_ids = list(self.told)
                for task_id, record in zip(open_ids, await self._current(open_ids), strict=True):
                    if record is None:
                        self.told.pop(task_id, None)  # expired or deleted: nothing more to tell
                    elif task_id not in heard or heard[task_id].version < record.version:
                        heard[task_id] = record
            await self._tell(heard.values())

    async def _current(self, task_ids: list[str]) -> list[TaskRecord | None]:
        """The caller's own tasks as `tasks/get` would show them; None for any other id."""
        records: list[TaskRecord | None] = []
        for task_id in task_ids:
            try:
                records.append(await self.runtime.get(task_id, self.owner))
            except TaskLookupError:
                records.append(None)
        return records

    async def _acknowledge(self, task_ids: list[str]) -> None:
        honored = types.SubscriptionFilter.model_validate({FILTER_TASK_IDS: task_ids})
        ack = types.SubscriptionsAcknowledgedNotification(
            params=types.SubscriptionsAcknowledgedNotificationParams(notifications=honored, _meta=self.meta)
        )
        await self.ctx.session.send_notification(ack, related_request_id=self.ctx.request_id)
        self.told = {task_id: ("", -1) for task_id in task_ids}

    async def _tell(self, records: Iterable[TaskRecord]) -> None:
        for record in records:
            if record.task_id not in self.told or record.version < self.seen_version.get(record.task_id, -1):
                continue  # not agreed to (or over), or older than what was already looked at
            self.seen_version[record.task_id] = record.version
            if self.told[record.task_id] == _signature(record):
                continue
            notification = wire.TaskStatusNotification.of(record.to_wire(), meta=self.meta)
            await self.ctx.session.send_notification(notification, related_request_id=self.ctx.request_id)
            if record.terminal:
                self.told.pop(record.task_id)
            else:
                self.told[record.task_id] = _signature(record)
