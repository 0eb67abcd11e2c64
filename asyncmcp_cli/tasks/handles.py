"""Task handles: what a later process needs to come back to a task, in one word for a shell.

A task lives on the server (in its shared store), so any process that reaches
the same server (the same ``--transport`` / ``--profile``) may ask about it.
But this project's server binds each task to the client id that created it
(another client's task reads as unknown), so the handle carries both: the
task id and the client id. ``connect call --task`` prints it as
``amt1.`` followed by the base64url (unpadded) JSON
``{"v": 1, "task_id": "...", "client_id": "..."}``; a bare task id is
accepted too (with ``--client-id`` when the server binds tasks to one).

The target is not in the handle: it is the configuration the later command
runs with, so a handle cannot send anyone's credentials somewhere else (the
lesson of receipts, which do name an endpoint and need `bound_to`).

Handles and task ids come from servers, terminals and files: untrusted.
`check_task_id` lets through only a short run of printable, non-space ASCII;
`TaskHandle.parse` checks every field and refuses anything else with a
`BadTaskIdError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from asyncmcp_cli.errors import UsageError
from asyncmcp_cli.tasks.wire import MAX_TASK_ID_LENGTH

PREFIX = "amt1."
VERSION = 1
MAX_HANDLE = 1024

_TASK_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_TASK_ID_LENGTH}}}")
_CLIENT_ID = re.compile(r"[\x21-\x7e]{1,256}")


class BadTaskIdError(UsageError):
    """Text that is neither a task id nor a task handle, or a handle with a field that is not right."""


def check_task_id(task_id: object) -> str:
    """`task_id` if it may be a task id; `BadTaskIdError` otherwise."""
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        raise BadTaskIdError(
            f"not a task id: {_shown(task_id)} (1 to {MAX_TASK_ID_LENGTH} printable characters without spaces)"
        )
    return task_id


def _check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise BadTaskIdError(f"task handle client id {_shown(client_id)} is not 1 to 256 printable characters")
    return client_id


def _shown(value: object) -> str:
    return repr(value)[:40]


@dataclass(frozen=True)
class TaskHandle:
    task_id: str
    client_id: str | None = None
    """The client id the task is bound to; None for a bare task id."""

    def encode(self) -> str:
        """The one-word form: ``amt1.`` and base64url JSON (a bare task id has no client id to carry)."""
        if self.client_id is None:
            return self.task_id
        body = json.dumps({"v": VERSION, "task_id": self.task_id, "client_id": self.client_id}, separators=(",", ":"))
        return PREFIX + base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> TaskHandle:
        """A handle from ``amt1.…`` or a bare task id; `BadTaskIdError` for anything else."""
        text = text.strip()
        if not text.startswith(PREFIX):
            return cls(check_task_id(text))
        if len(text) > MAX_HANDLE:
            raise BadTaskIdError(f"a task handle is at most {MAX_HANDLE} characters")
        encoded = text[len(PREFIX) :]
        try:
            data = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        except (binascii.Error, ValueError):
            raise BadTaskIdError("not a task handle: its body is not base64url JSON") from None
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise BadTaskIdError("not a task handle of this version (amt1)")
        return cls(check_task_id(data.get("task_id")), _check_client_id(data.get("client_id")))
