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


async def poll_until_terminal(
    get: Callable[[], Awaitable[wire.GetTaskResult]],
    *,
    on_status: OnStatus | None = None,
) -> wire.GetTaskResult:
    """Call `get` until the task it returns is terminal; return that last answer."""
    while True:
        task = await get()
        if on_status is not None:
            outcome = on_status(task)
            if inspect.isawaitable(outcome):
                await outcome
        if task.status in wire.TERMINAL_STATUSES:
            return task
        await anyio.sleep(poll_seconds(task))
