"""Polling a task to its end at the pace the server asks for.

The server's ``pollIntervalMs`` is honoured, within bounds: it comes from an
untrusted peer, so a zero or negative value cannot turn the loop into a busy
poll of the queue, and an enormous one cannot park the caller for days.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import anyio

from asyncmcp_cli.tasks import wire

OnStatus = Callable[[wire.GetTaskResult], "Awaitable[None] | None"]
"""Called with each ``tasks/get`` answer (sync or async)."""

DEFAULT_POLL_SECONDS = 1.0
"""When the server names no ``pollIntervalMs``."""

MIN_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 60.0


def poll_seconds(task: wire.Task, *, default: float = DEFAULT_POLL_SECONDS) -> float:
    """How long to sleep before the next ``tasks/get`` of `task`."""
    if task.poll_interval_ms is None:
        return default
    return min(max(task.poll_interval_ms / 1000, MIN_POLL_SECONDS), MAX_POLL_SECONDS)


MAX_PUSHED = 1000
"""Pushed terminal states kept for tasks nobody has waited for yet; the oldest go first."""


class Pushed:
    """Terminal task states pushed by the server in ``notifications/tasks``, for waits in progress to pick up.

    A push is a hint that saves waiting for the next poll: it arrives from the
    server like any answer (validated against the wire model), and only a
    terminal state is kept.
    """

    def __init__(self) -> None:
        self._terminal: dict[str, wire.GetTaskResult] = {}
        self._changed = anyio.Event()

    def note(self, params: wire.DetailedTask) -> None:
        if params.status not in wire.TERMINAL_STATUSES:
            return
        self._terminal[params.task_id] = wire.GetTaskResult.model_validate(
            params.to_wire() | {"resultType": "complete"}
        )
        while len(self._terminal) > MAX_PUSHED:
            self._terminal.pop(next(iter(self._terminal)))
        self._changed.set()
        self._changed = anyio.Event()

    async def wait(self, task_id: str, seconds: float) -> wire.GetTaskResult | None:
        """The task's pushed terminal state, as soon as it is there; None after `seconds` without it."""
        with anyio.move_on_after(seconds):
            while task_id not in self._terminal:
                await self._changed.wait()
        return self._terminal.pop(task_id, None)


async def poll_until_terminal(
    get: Callable[[], Awaitable[wire.GetTaskResult]],
    *,
    on_status: OnStatus | None = None,
    pushed: Pushed | None = None,
) -> wire.GetTaskResult:
    """Call `get` until the task it returns is terminal (or `pushed` has it); return that last state."""
    while True:
        task = await get()
        if on_status is not None:
            await _call(on_status, task)
        if task.status in wire.TERMINAL_STATUSES:
            return task
        if pushed is None:
            await anyio.sleep(poll_seconds(task))
            continue
        final = await pushed.wait(task.task_id, poll_seconds(task))
        if final is not None:
            if on_status is not None:
                await _call(on_status, final)
            return final


async def _call(on_status: OnStatus, task: wire.GetTaskResult) -> None:
    outcome = on_status(task)
    if inspect.isawaitable(outcome):
        await outcome
