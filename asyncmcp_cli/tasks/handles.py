"""Task ids as handles that outlive the process that started the task.

A task id is the server's, not the connection's: any process that reaches the
same server (the same ``--transport`` / ``--profile``) may ask about it. So
the handle to keep is the id itself, and the target it came from is the
configuration already used for the call. The id arrives from a server, a
terminal or a file, all untrusted: `check_task_id` lets through only a short
run of printable, non-space ASCII, which is what a shell, a log line and a
JSON-RPC ``params`` can carry unharmed.
"""

from __future__ import annotations

import re

from asyncmcp_cli.errors import UsageError
from asyncmcp_cli.tasks.wire import MAX_TASK_ID_LENGTH

_TASK_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_TASK_ID_LENGTH}}}")


class BadTaskIdError(UsageError):
    """Text that cannot be a task id (empty, too long, spaces or control characters)."""


def check_task_id(task_id: object) -> str:
    """`task_id` if it may be a task id; `BadTaskIdError` otherwise."""
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        shown = repr(task_id)[:40]
        raise BadTaskIdError(f"not a task id: {shown} (1 to {MAX_TASK_ID_LENGTH} printable characters without spaces)")
    return task_id
