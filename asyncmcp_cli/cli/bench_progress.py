"""Rich progress bars for `asyncmcp bench`: one bar per phase, advancing per call inside it."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class PhaseBars:
    """A `asyncmcp_cli.bench.BenchProgress` drawn with Rich: finished phases stay on screen with their time.

    `advance` may be called from a worker thread (the raw boto3 floor runs in
    one); Rich's `Progress` takes a lock for each update.
    """

    def __init__(self, console: Console) -> None:
        self._bars = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._current: int | None = None

    def __enter__(self) -> PhaseBars:
        self._bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._finish_current()
        self._bars.stop()

    def phase(self, description: str, total: int | None = None) -> None:
        self._finish_current()
        self._current = self._bars.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._current is not None:
            self._bars.advance(self._current, steps)

    def _finish_current(self) -> None:
        if self._current is None:
            return
        task = next(t for t in self._bars.tasks if t.id == self._current)
        if task.total is None:  # a phase of unknown length is complete when it ends
            self._bars.update(self._current, total=task.completed or 1, completed=task.completed or 1)
        self._bars.stop_task(self._current)  # a bar short of its total stays so: that figure was not reached
        self._current = None
