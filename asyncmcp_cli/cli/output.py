"""Where the commands print: stdout and stderr consoles, JSON, counted nouns.

The consoles are made on first use, not at import: every command module
imports them, and shell completion, which prints through none of them, then
never loads Rich's console (a fifth of a completion's time).
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

PIPE_WIDTH = 10_000
"""Columns a console writes when it is not a terminal: in effect unlimited, so a pipe or a log file gets
whole lines (nothing wrapped at 80 columns, no name cut to "asyncmc…"); `COLUMNS` still wins."""


class _ConsoleOnFirstUse:
    """A Rich console made the first time anything asks it something; then every use goes to it.

    Reading or setting an attribute (``console.width = 160`` in a test) reaches
    the real console, and so does ``with console:``.
    """

    def __init__(self, *, stderr: bool) -> None:
        object.__setattr__(self, "_stderr", stderr)
        object.__setattr__(self, "_made", None)

    def _console(self) -> Console:
        made = object.__getattribute__(self, "_made")
        if made is None:
            made = _console(stderr=object.__getattribute__(self, "_stderr"))
            object.__setattr__(self, "_made", made)
        return made

    def __getattr__(self, name: str) -> Any:
        return getattr(self._console(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._console(), name, value)

    def __enter__(self) -> Console:
        return self._console().__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self._console().__exit__(*exc_info)

    def __repr__(self) -> str:
        return f"<console of {'stderr' if object.__getattribute__(self, '_stderr') else 'stdout'}, made on first use>"


def _forwarded(name: str) -> property:
    """An attribute of the real console, as a property of the stand-in: code (and tests' ``monkeypatch``)
    that sets it and later puts the old value back finds it where it looks, on the stand-in's class."""
    return property(
        lambda self: getattr(self._console(), name), lambda self, value: setattr(self._console(), name, value)
    )


for _name in ("width", "height", "file", "quiet", "soft_wrap"):
    setattr(_ConsoleOnFirstUse, _name, _forwarded(_name))


def _console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if _is_terminal(stream) or os.environ.get("COLUMNS"):
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPE_WIDTH, soft_wrap=True)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


console: Console = _ConsoleOnFirstUse(stderr=False)  # type: ignore[assignment]
err_console: Console = _ConsoleOnFirstUse(stderr=True)  # type: ignore[assignment]


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 resource``, ``2 resources``, ``0 resources``."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
