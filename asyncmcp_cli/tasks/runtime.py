"""Running tasks: create, run in the background with a lease, answer get / update / cancel.

Every state change goes through the shared store with a compare-and-swap
(`store.update`), so any server process can answer for a task another one
runs, and a terminal state, once written, is never overwritten.

- A worker renews a lease on each task it runs every third of
  ``lease_seconds``. At each renewal it also learns whether the task was
  cancelled (by any process) or outlived its TTL, and then stops the work.
- A task whose lease lapsed (its worker died without a word) is marked
  ``failed`` by whoever reads it next, with the reason, so it is never stuck
  in ``working``. (The queue message that started it was answered with the
  ``CreateTaskResult``, so there is nothing for the queue to redeliver.)
- A worker that shuts down marks the tasks it still runs ``failed`` at once.
- A tool that needs input (the SDK's multi-round-trip ``input_required``
  result) puts the task in ``input_required``; ``tasks/update`` collects the
  answers, and the process that receives the last one runs the call again
  with them, as a retry of the original request.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc

from asyncmcp_cli.errors import AsyncMCPError
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.events import TaskEvents
from asyncmcp_cli.tasks.record import TaskRecord, new_task_id
from asyncmcp_cli.tasks.store import TaskStore, update

logger = logging.getLogger(__name__)

DEFAULT_TTL_MS = 3_600_000
DEFAULT_POLL_INTERVAL_MS = 1_000
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_MAX_RUNNING = 64
_TASK_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{wire.MAX_TASK_ID_LENGTH}}}")
_ROUND_SEPARATOR = "."

Invoke = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Runs one ``tools/call`` for a task (task id, call params) and returns its wire result.

Raises `mcp.shared.exceptions.MCPError` for a JSON-RPC error."""

Outcome = Callable[[TaskRecord], TaskRecord | None]
Notify = Callable[[TaskRecord], Awaitable[None]]


class TaskLookupError(AsyncMCPError):
    """No task by that id for this client (or it expired): ``-32602`` to the caller."""


class TaskRuntime:
    """One process's part in running tasks; the store is what the processes share."""

    def __init__(
        self,
        store: TaskStore,
        *,
        ttl_ms: int | None = DEFAULT_TTL_MS,
        poll_interval_ms: int = DEFAULT_POLL_INTERVAL_MS,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_running: int = DEFAULT_MAX_RUNNING,
    ) -> None:
        self.store = store
        self.ttl_ms = ttl_ms
        self.poll_interval_ms = poll_interval_ms
        self.lease_seconds = lease_seconds
        self.max_running = max_running
        self.worker_id = secrets.token_hex(8)
        self._scopes: dict[str, anyio.CancelScope] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self.events = TaskEvents()
        """Every task record this process writes, as it is written (for listen streams)."""

    @asynccontextmanager
    async def running(self) -> AsyncIterator[TaskRuntime]:
        """Run tasks while inside; on exit, stop them and mark them failed."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            try:
                yield self
            finally:
                self._tg = None
                tg.cancel_scope.cancel()

    @property
    def has_room(self) -> bool:
        return self._tg is not None and len(self._scopes) < self.max_running

    # -- creation -----------------------------------------------------------

    async def start(
        self, *, owner: str, tool: str, params: dict[str, Any], invoke: Invoke, notify: Notify | None = None
    ) -> TaskRecord:
        """Store a new task (durably: readable by every process on return), then run it in the background."""
        now = time.time()
        record = TaskRecord(
            task_id=new_task_id(),
            owner=owner,
            status=wire.WORKING,
            created_at=now,
            updated_at=now,
            ttl_ms=self.ttl_ms,
            poll_interval_ms=self.poll_interval_ms,
            tool=tool,
            request=params,
            worker=self.worker_id,
            lease_expires=now + self.lease_seconds,
            notify_wanted=notify is not None,
        )
        if not await self.store.create(record):  # 256 random bits: a collision means a broken RNG
            raise AsyncMCPError("could not store a new task: its id is taken")
        self._launch(record.task_id, params, invoke, notify)
        return record

    def _launch(self, task_id: str, params: dict[str, Any], invoke: Invoke, notify: Notify | None) -> None:
        if self._tg is None:
            raise AsyncMCPError("the task runtime is not running")
        self._tg.start_soon(self._execute, task_id, params, invoke, notify)

    async def _execute(self, task_id: str, params: dict[str, Any], invoke: Invoke, notify: Notify | None) -> None:
        outcome: Outcome | None = None
        try:
            with anyio.CancelScope() as scope:
                self._scopes[task_id] = scope
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._keep_lease, task_id, scope)
                    outcome = await _run(invoke, task_id, params)
                    tg.cancel_scope.cancel()
        finally:
            self._scopes.pop(task_id, None)
            # Stopped without an outcome: by a terminal state seen at renewal, or by shutdown.
            with anyio.CancelScope(shield=True):
                await self._settle(task_id, outcome or _stopped, notify)

    async def _settle(self, task_id: str, outcome: Outcome, notify: Notify | None) -> None:
        try:
            record = await self._update(task_id, outcome)
        except AsyncMCPError as exc:
            logger.warning("task %s: could not store its outcome: %s", task_id[:12], exc)
            return
        if record is not None and notify is not None and (record.terminal or record.status == wire.INPUT_REQUIRED):
            await notify(record)

    async def _keep_lease(self, task_id: str, scope: anyio.CancelScope) -> None:
        """Renew the lease; stop the work when the task is over elsewhere (cancelled, expired, lapsed)."""

        def renew(record: TaskRecord) -> TaskRecord | None:
            if record.terminal or record.worker != self.worker_id:
                return None
            if record.expired():
                return record.finished(
                    wire.FAILED,
                    message="Task expired before it finished",
                    error={"code": wire.INTERNAL_ERROR, "message": "Task expired before it finished"},
                )
            return record.changed(lease_expires=time.time() + self.lease_seconds)

        while True:
            await anyio.sleep(self.lease_seconds / 3)
            try:
                record = await self._update(task_id, renew)
            except AsyncMCPError as exc:
                logger.warning("task %s: could not renew its lease: %s", task_id[:12], exc)
                continue
            if record is None or record.terminal or record.worker != self.worker_id:
                scope.cancel()
                return

    async def _update(self, task_id: str, change: Outcome) -> TaskRecord | None:
        """`store.update`, and tell this process's listeners what was written."""
        record = await update(self.store, task_id, change)
        if record is not None:
            self.events.publish(record)
        return record

    # -- the task methods ---------------------------------------------------

    async def get(self, task_id: str, owner: str) -> TaskRecord:
        """The task as ``tasks/get`` shows it; a lapsed lease is turned into ``failed`` here."""
        record = await self._owned(task_id, owner)
        if record.lease_lapsed():
            record = await self._update(task_id, _lapsed) or record
        return record

    async def cancel(self, task_id: str, owner: str) -> TaskRecord:
        """Mark the task cancelled now; its worker stops at once (here) or at its next renewal (elsewhere)."""
        await self._owned(task_id, owner)

        def cancelled(record: TaskRecord) -> TaskRecord | None:
            if record.terminal:
                return None
            return record.finished(wire.CANCELLED, message="Cancelled by the client")

        record = await self._update(task_id, cancelled)
        scope = self._scopes.get(task_id)
        if scope is not None:
            scope.cancel()
        if record is None:
            raise TaskLookupError(wire.TASK_NOT_FOUND_MESSAGE)
        return record

    async def answer(
        self, task_id: str, owner: str, responses: dict[str, Any], invoke: Invoke, notify: Notify | None = None
    ) -> TaskRecord:
        """Take ``tasks/update`` answers; once none is outstanding, run the call again with them here."""
        await self._owned(task_id, owner)
        resumed: dict[str, Any] = {}

        def merge(record: TaskRecord) -> TaskRecord | None:
            resumed.clear()
            outstanding = record.input_requests or {}
            if record.status != wire.INPUT_REQUIRED:
                return None
            accepted = {key: value for key, value in responses.items() if key in outstanding}
            if not accepted:
                return None  # unknown or already answered keys are ignored, as the spec says
            pending = {**record.input_responses, **accepted}
            remaining = {key: value for key, value in outstanding.items() if key not in accepted}
            if remaining or not self.has_room:
                return record.changed(input_requests=remaining or outstanding, input_responses=pending)
            resumed.update(pending)
            return record.changed(
                status=wire.WORKING,
                status_message="Resuming with the client's input",
                input_requests=None,
                input_responses={},
                worker=self.worker_id,
                lease_expires=time.time() + self.lease_seconds,
            )

        record = await self._update(task_id, merge)
        if record is None:
            raise TaskLookupError(wire.TASK_NOT_FOUND_MESSAGE)
        if resumed:
            self._launch(task_id, _retry_params(record, resumed), invoke, notify if record.notify_wanted else None)
        return record

    async def report(self, task_id: str, message: str) -> None:
        """Show a progress or log line as the working task's ``statusMessage``."""

        def note(record: TaskRecord) -> TaskRecord | None:
            if record.status != wire.WORKING or record.status_message == message:
                return None
            return record.changed(status_message=message)

        try:
            await self._update(task_id, note)
        except AsyncMCPError as exc:
            logger.debug("task %s: progress not stored: %s", task_id[:12], exc)

    async def _owned(self, task_id: str, owner: str) -> TaskRecord:
        """The caller's own, unexpired task; anything else reads as "not found" (nothing leaks)."""
        if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
            raise TaskLookupError(wire.TASK_NOT_FOUND_MESSAGE)
        loaded = await self.store.load(task_id)
        if loaded is None or loaded[0].owner != owner:
            raise TaskLookupError(wire.TASK_NOT_FOUND_MESSAGE)
        record = loaded[0]
        if record.expired():
            await self.store.delete(task_id)
            raise TaskLookupError(wire.TASK_EXPIRED_MESSAGE)
        return record


async def _run(invoke: Invoke, task_id: str, params: dict[str, Any]) -> Outcome:
    """Run the call and turn what happened into the change it makes to the task."""
    from mcp.shared.exceptions import MCPError
    from pydantic import ValidationError

    try:
        result = await invoke(task_id, params)
    except MCPError as exc:
        error = exc.error.model_dump(by_alias=True, mode="json", exclude_none=True)
        return _failed(error, f"Tool execution failed: {exc.error.message}")
    except ValidationError:
        return _failed({"code": wire.INVALID_PARAMS, "message": "Invalid tools/call parameters"}, None)
    except Exception:
        logger.exception("task %s: the tool call raised", task_id[:12])
        return _failed({"code": wire.INTERNAL_ERROR, "message": "Internal error"}, "Tool execution failed")
    if result.get("resultType") == "input_required":
        return _needs_input(result)
    return lambda record: None if record.terminal else record.finished(wire.COMPLETED, result=result)


def _failed(error: dict[str, Any], message: str | None) -> Outcome:
    text = message or str(error.get("message", "failed"))
    return lambda record: None if record.terminal else record.finished(wire.FAILED, message=text, error=error)


def _needs_input(result: dict[str, Any]) -> Outcome:
    """The tool asked for input: surface its requests under keys unique over the task's life."""
    raw_requests = result.get("inputRequests")
    requests = raw_requests if isinstance(raw_requests, dict) else {}

    def ask(record: TaskRecord) -> TaskRecord | None:
        if record.terminal:
            return None
        if not requests:  # state only, nothing to ask: nothing the client could answer
            error = {"code": wire.INTERNAL_ERROR, "message": "The tool asked for input without saying what"}
            return record.finished(wire.FAILED, message=error["message"], error=error)
        round_no = record.input_round + 1
        return record.changed(
            status=wire.INPUT_REQUIRED,
            status_message="Waiting for the client's input",
            input_requests={f"{round_no}{_ROUND_SEPARATOR}{key}": value for key, value in requests.items()},
            input_responses={},
            input_round=round_no,
            request_state=result.get("requestState"),
            worker=None,
            lease_expires=None,
        )

    return ask


def _retry_params(record: TaskRecord, answers: dict[str, Any]) -> dict[str, Any]:
    """The original call again, carrying the answers under the tool's own keys and its request state."""
    prefix = f"{record.input_round}{_ROUND_SEPARATOR}"
    params = dict(record.request)
    params["inputResponses"] = {key.removeprefix(prefix): value for key, value in answers.items()}
    if record.request_state is not None:
        params["requestState"] = record.request_state
    else:
        params.pop("requestState", None)
    return params


def _stopped(record: TaskRecord) -> TaskRecord | None:
    if record.terminal:
        return None
    reason = "The server running this task shut down before it finished"
    return record.finished(wire.FAILED, message=reason, error={"code": wire.INTERNAL_ERROR, "message": reason})


def _lapsed(record: TaskRecord) -> TaskRecord | None:
    if not record.lease_lapsed():
        return None
    reason = "The server running this task stopped answering (its lease lapsed) before the task finished"
    return record.finished(wire.FAILED, message=reason, error={"code": wire.INTERNAL_ERROR, "message": reason})
