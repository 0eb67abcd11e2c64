"""What a running command reports about itself: its log lines, and (``--metrics``) health and metrics."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asyncmcp_cli.cli.output import PIPE_WIDTH, err_console


def setup_logging(level: str, log_format: str = "rich") -> None:
    """Log to stderr through Rich, or as JSON lines; untrusted text escaped either way.

    A logged value may be anything a queue or a server handed over: escaping
    happens in the formatter, so every log call is covered, not only the ones
    that remembered to (control characters shown as escapes for Rich, JSON
    string escapes for ``json``: see `asyncmcp_cli.observability.logs`).
    """
    from asyncmcp_cli.protocol import safe_text

    handler: logging.Handler
    if log_format == "json":
        from asyncmcp_cli.observability.logs import json_handler

        handler = json_handler(level)
    else:
        if err_console.width >= PIPE_WIDTH:  # not a terminal: one plain line per record, never padded or wrapped
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(safe_text.EscapingFormatter("[%(asctime)s] %(levelname)-8s %(message)s", datefmt="%X"))
        else:
            from rich.logging import RichHandler

            handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False, markup=False)
            handler.setFormatter(safe_text.EscapingFormatter("%(message)s", datefmt="[%X]"))
        if level.upper() != "DEBUG":
            handler.addFilter(_without_traceback)
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "mcp", "httpx", "httpcore", "httpx2", "uvicorn"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


@asynccontextmanager
async def observing(address: str | None, transport: str, *, worker_index: int) -> AsyncIterator[Any]:
    """``--metrics``: the health and metrics endpoint for the block (nothing of it is loaded without one)."""
    if address is None:
        yield None
        return
    from asyncmcp_cli.observability.health import observing as serving

    async with serving(address, transport, worker_index=worker_index) as bound:
        yield bound


def _without_traceback(record: logging.LogRecord) -> bool:
    """Log one line, not a traceback (libraries log theirs with `exc_info`): the stack is for --log-level debug."""
    if record.exc_info or record.exc_text:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {record.exc_info[1]}".splitlines()[0]
            record.args = None
        record.exc_info = None
        record.exc_text = None
    return True
