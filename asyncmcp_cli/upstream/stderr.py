"""Send an upstream process's stderr to our log, one line per record.

An MCP server on stdio writes its diagnostics to stderr. The SDK's
`stdio_client` hands the child a file for it; we give it the write end of a
pipe and a daemon thread turns each line into a log record of
``asyncmcp_cli.upstream``, so the server's own messages show up, labelled, in
``asyncmcp serve``'s log instead of interleaving raw with it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

logger = logging.getLogger("asyncmcp_cli.upstream")


@contextmanager
def stderr_to_log(label: str) -> Iterator[TextIO]:
    """A writable file for a child's stderr; what the child writes is logged under `label`."""
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
    writer = os.fdopen(write_fd, "w", encoding="utf-8")
    thread = threading.Thread(target=_pump, args=(reader, label), name=f"stderr of {label}", daemon=True)
    thread.start()
    try:
        yield writer
    finally:
        writer.close()  # the child keeps its own copy; the reader sees EOF once that is gone too


def _pump(reader: TextIO, label: str) -> None:
    with reader:
        try:
            for line in reader:
                if text := line.rstrip():
                    logger.info("[%s] %s", label, text)
        except (OSError, ValueError):  # the pipe broke or was closed under us: nothing more to log
            return
