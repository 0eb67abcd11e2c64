"""Untrusted text made safe to show on a terminal.

Message bodies, client ids and methods read off a queue, and whatever a
server returns (tool results, names, descriptions, errors, log messages) are
written by someone else. Printed as they are, their control characters reach
the viewer's terminal: ``ESC ] 0 ; ... BEL`` retitles the window, ``ESC ] 8``
plants a hyperlink (``file:///etc/passwd`` under harmless words), CSI
sequences move the cursor and repaint what was printed before, and bidi
overrides make text read differently from what it is. Rich does not help:
`rich.text.Text` drops only BEL, BS, VT, FF and CR, and Rich markup in the
text (``[link=...]``) is interpreted wherever untrusted text is interpolated
into a markup string.

So every such character is shown as a visible escape instead: C0 controls,
DEL and C1 controls as ``\\xNN`` (``\\n``, ``\\r``, ``\\t`` by name), bidi
controls and the Unicode line separators as ``\\uNNNN``. ``\\n`` and ``\\t``
are kept only where the output is meant to span lines (``multiline``).

- `printable` for a plain string, `text` for a Rich `Text`, `markup` for a
  value interpolated into a Rich markup string;
- `json_view` for highlighted JSON (Rich's own ``JSON`` re-encodes with
  ``ensure_ascii=False``, which lets DEL, C1 and bidi characters through);
- `EscapingFormatter` for log records, so that every ``logger.x("%s", value)``
  is covered, whatever its arguments.

``--json`` output needs none of this (``json.dumps`` escapes to ASCII) and
``--raw`` is raw on purpose.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Rich is imported where text is rendered: shell completion loads this module and renders none
    from rich.text import Text

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_UNICODE_CONTROLS = (
    "\u061c",  # Arabic letter mark
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    *map(chr, range(0x202A, 0x202F)),  # embeddings and overrides (LRE, RLE, PDF, LRO, RLO)
    *map(chr, range(0x2066, 0x206A)),  # isolates (LRI, RLI, FSI, PDI)
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
)


def _escape_of(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_UNSAFE = [*map(chr, range(0x00, 0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), *_UNICODE_CONTROLS]
_SINGLE_LINE = str.maketrans({char: _escape_of(char) for char in _UNSAFE})
_MULTILINE = str.maketrans({char: _escape_of(char) for char in _UNSAFE if char not in "\n\t"})
_IN_JSON = str.maketrans({char: f"\\u{ord(char):04x}" for char in _UNSAFE if char != "\n"})
"""For JSON text from `json.dumps`: every unsafe character is inside a string (where ``\\uNNNN`` is
the format's own escape), except the newlines of the indentation."""


def printable(value: object, *, multiline: bool = False) -> str:
    """`value` as text with every terminal control character shown as an escape.

    With `multiline`, line breaks and tabs stay (``\\r\\n`` becomes ``\\n``);
    otherwise the result is one line.
    """
    text = value if isinstance(value, str) else str(value)
    if multiline:
        return text.replace("\r\n", "\n").translate(_MULTILINE)
    return text.translate(_SINGLE_LINE)


def text(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """A Rich `Text` of untrusted `value`: no markup interpreted, no control character passed on."""
    from rich.text import Text

    return Text(printable(value, multiline=multiline), style=style)


def markup(value: object, *, multiline: bool = False) -> str:
    """Untrusted `value`, ready to interpolate into a Rich markup string."""
    from rich.markup import escape

    return escape(printable(value, multiline=multiline))


def json_view(data: Any) -> Text:
    """Indented, highlighted JSON of `data`, with any control character in a string as ``\\uNNNN``."""
    from rich.highlighter import JSONHighlighter

    body = json.dumps(data, indent=2, ensure_ascii=False, default=str).translate(_IN_JSON)
    view = JSONHighlighter()(body)
    view.no_wrap = True
    view.overflow = None
    return view


class EscapingFormatter(logging.Formatter):
    """A log formatter that escapes control characters in the message and in tracebacks.

    The message becomes one line (a newline in a logged value cannot forge
    another log line); a traceback keeps its lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return printable(super().formatException(ei), multiline=True)

    def formatStack(self, stack_info: str) -> str:
        return printable(super().formatStack(stack_info), multiline=True)
