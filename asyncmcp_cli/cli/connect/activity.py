"""What the server says while a request runs: progress, log messages, other notifications.

On a terminal a running call shows a Rich spinner (a bar once the server
reports a total), with log messages printed above it as they arrive. When the
output is not a terminal, each notification is one plain line, so logs and
CI output show the same live information. What the server says is untrusted
text: it goes through `asyncmcp_cli.protocol.safe_text.markup`, never straight into markup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mcp_types as types
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from asyncmcp_cli.protocol.safe_text import markup

_LEVEL_STYLES = {
    "debug": "dim",
    "info": "cyan",
    "notice": "cyan",
    "warning": "yellow",
    "error": "red",
    "critical": "bold red",
    "alert": "bold red",
    "emergency": "bold red",
}

_CHANGES = {
    "notifications/tools/list_changed": "tools",
    "notifications/prompts/list_changed": "prompts",
    "notifications/resources/list_changed": "resources",
}


class Activity:
    """Shows server notifications on `console`; `running()` brackets one request."""

    def __init__(
        self,
        console: Console,
        *,
        quiet: bool = False,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.console = console
        self.quiet = quiet
        self.on_change = on_change
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._label = ""
        self._last_task_line = ""

    @property
    def _out(self) -> Console:
        """Where lines go: above the live display while one runs."""
        return self._progress.console if self._progress is not None else self.console

    @contextmanager
    def running(self, label: str) -> Iterator[None]:
        """A spinner for one request on a terminal; nothing otherwise."""
        if self.quiet or not self.console.is_terminal:
            yield
            return
        self._label = label
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        with progress:
            self._progress = progress
            self._task = progress.add_task(markup(label), total=None, count="")
            try:
                yield
            finally:
                self._progress = None
                self._task = None

    # -- callbacks for mcp.Client -------------------------------------------

    async def progress(self, progress: float, total: float | None, message: str | None) -> None:
        if self.quiet:
            return
        if self._progress is not None and self._task is not None:
            description = self._label + (f": {message}" if message else "")
            count = f"{progress:g}/{total:g}" if total else f"{progress:g}"
            self._progress.update(
                self._task, completed=progress, total=total, description=markup(description), count=count
            )
            return
        count = f"{progress:g}/{total:g}" if total else f"{progress:g}"
        self._out.print(f"[dim]progress[/] {count}" + (f" {markup(message)}" if message else ""), highlight=False)

    async def log(self, params: types.LoggingMessageNotificationParams) -> None:
        if self.quiet:
            return
        style = _LEVEL_STYLES.get(params.level, "")
        where = f" {markup(params.logger)}" if params.logger else ""
        data = params.data if isinstance(params.data, str) else json.dumps(params.data, default=str)
        self._out.print(f"[{style}]server {params.level}[/]{where}: {markup(data)}", highlight=False, soft_wrap=True)

    async def message(self, message: Any) -> None:
        """`mcp.Client(message_handler=...)`: notifications other than progress and logs, and stream errors."""
        if isinstance(message, Exception):
            first_line = (str(message).strip().splitlines() or [type(message).__name__])[0]
            self._out.print(f"[yellow]warning:[/] {markup(first_line)}", highlight=False, soft_wrap=True)
            return
        method = getattr(message, "method", "")
        if method in _CHANGES:
            kind = _CHANGES[method]
            if self.on_change is not None:
                self.on_change(kind)
            if not self.quiet:
                self._out.print(f"[dim]server: the {kind} list changed[/]", highlight=False)
        elif method == "notifications/resources/updated" and not self.quiet:
            uri = getattr(getattr(message, "params", None), "uri", "")
            self._out.print(f"[dim]server: resource updated: {markup(str(uri))}[/]", highlight=False)

    async def task_status(self, task: Any) -> None:
        """A ``tasks/get`` answer (`asyncmcp_cli.tasks.wire.GetTaskResult`): its status is the task's progress."""
        line = f"task {task.task_id}: {task.status}" + (f" · {task.status_message}" if task.status_message else "")
        if line == self._last_task_line or self.quiet:
            return
        self._last_task_line = line
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=markup(f"{self._label} · {line}"))
            return
        self._out.print(f"[dim]{markup(line)}[/]", highlight=False, soft_wrap=True)

    def client_callbacks(self) -> dict[str, Any]:
        """Keyword arguments for `mcp.Client` / `open_target`.

        The client declares the tasks extension: a tool the server runs as a
        task is polled to its end and shown here while it runs.
        """
        from asyncmcp_cli.tasks.client import TasksExtension

        return {
            "logging_callback": self.log,
            "message_handler": self.message,
            "extensions": [TasksExtension(on_status=self.task_status)],
        }
