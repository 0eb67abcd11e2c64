"""``--log-format json``: one JSON object per log line, for log shippers (CloudWatch, Loki, ...).

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``,
and, where the code logging it knows them, ``client_id``, ``request_id``,
``method``, ``queue`` and ``duration`` (seconds), passed as
``logger.x(..., extra={...})``. A failure adds ``error`` (one line; the
traceback only at debug level, as ``traceback``).

Untrusted text (a client id, a method name, a server's message) stays inside
JSON strings, encoded with ``ensure_ascii``: a newline cannot start a forged
log line, and no control or bidi character reaches a terminal that shows the
log raw.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

CONTEXT_FIELDS = ("client_id", "request_id", "method", "queue", "duration")


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def __init__(self, *, with_traceback: bool = False) -> None:
        super().__init__()
        self._with_traceback = with_traceback

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = str(record.exc_info[1]).splitlines()[0] if str(record.exc_info[1]) else ""
            if self._with_traceback:
                line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=True, default=str)


def json_handler(level: str) -> logging.Handler:
    """A stderr handler writing JSON lines; tracebacks are kept only at debug level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(with_traceback=level.upper() == "DEBUG"))
    return handler
