"""What a tool running as a task says while it works ends up in the task's ``statusMessage``.

The tool runs after its ``tools/call`` was answered (with the task handle), so
its progress and log notifications have no request left to ride on, and the
spec does not send them for tasks. `TaskSession` stands in for the request's
SDK session: it turns them into the task's status message (at most a few
writes a second), and passes everything else through.
"""

from __future__ import annotations

import time
from typing import Any

from asyncmcp_cli.tasks.runtime import TaskRuntime

MIN_SECONDS_BETWEEN_WRITES = 0.5
MAX_MESSAGE_CHARS = 500


class TaskSession:
    """The SDK `ServerSession` of the request that created the task, with progress and logs captured."""

    def __init__(self, inner: Any, task_id: str, runtime: TaskRuntime) -> None:
        self._inner = inner
        self._task_id = task_id
        self._runtime = runtime
        self._last_write = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        await self._note(progress_text(progress, total, message))

    async def send_progress_notification(
        self,
        progress_token: str | int,
        progress: float,
        total: float | None = None,
        message: str | None = None,
        related_request_id: Any = None,
    ) -> None:
        await self._note(progress_text(progress, total, message))

    async def send_log_message(self, level: Any, data: Any, logger: str | None = None, *args: Any, **kw: Any) -> None:
        source = f" [{logger}]" if logger else ""
        await self._note(f"{level}{source}: {data}")

    async def _note(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_write < MIN_SECONDS_BETWEEN_WRITES:
            return
        self._last_write = now
        await self._runtime.report(self._task_id, text[:MAX_MESSAGE_CHARS])


def progress_text(progress: float, total: float | None, message: str | None) -> str:
    amount = f"{progress:g}/{total:g}" if total else f"{progress:g}"
    return f"{message} ({amount})" if message else f"progress {amount}"
