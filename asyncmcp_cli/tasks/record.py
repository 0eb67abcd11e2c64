"""One task as the store keeps it: the spec's fields plus who may see it and who runs it.

A record is a plain JSON object, so every store keeps the same bytes. Times are
epoch seconds (the wire shows them as ISO 8601). `version` grows with every
write, so two writes never produce the same bytes (S3's ETag is then a safe
compare-and-swap token) and a store can tell a stale write from a fresh one.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from asyncmcp_cli.tasks import wire

TASK_ID_BYTES = 32
"""256 random bits: a task id is a bearer secret the spec says nobody may guess."""


def new_task_id() -> str:
    return secrets.token_urlsafe(TASK_ID_BYTES)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    owner: str
    """The client id that created the task; nobody else may read, answer or cancel it."""
    status: str
    created_at: float
    updated_at: float
    ttl_ms: int | None
    poll_interval_ms: int
    tool: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    """The ``tools/call`` params, to call again with the client's input after ``input_required``."""
    status_message: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = None
    input_responses: dict[str, Any] = field(default_factory=dict)
    """Answers from ``tasks/update`` collected until none is outstanding."""
    input_round: int = 0
    """How many times the task asked for input; prefixes its request keys, so none is reused."""
    request_state: str | None = None
    """The tool's opaque state from its ``input_required`` result, echoed on the retry."""
    worker: str | None = None
    lease_expires: float | None = None
    """The running worker renews this while it works; past it, the worker is presumed dead."""
    notify_wanted: bool = False
    """The caller asked to be sent ``notifications/tasks`` when the task ends."""
    version: int = 0

    # -- derived ------------------------------------------------------------

    @property
    def terminal(self) -> bool:
        return self.status in wire.TERMINAL_STATUSES

    @property
    def expires_at(self) -> float | None:
        return None if self.ttl_ms is None else self.created_at + self.ttl_ms / 1000

    def expired(self, now: float | None = None) -> bool:
        expires = self.expires_at
        return expires is not None and (time.time() if now is None else now) >= expires

    def lease_lapsed(self, now: float | None = None) -> bool:
        """A non-terminal task whose worker stopped renewing its lease."""
        if self.terminal or self.lease_expires is None:
            return False
        return (time.time() if now is None else now) >= self.lease_expires

    # -- changes ------------------------------------------------------------

    def changed(self, **changes: Any) -> TaskRecord:
        """A copy with `changes`, a fresh ``updated_at`` when the task's visible state moved, and the next version."""
        visible = {"status", "status_message", "result", "error", "input_requests"}
        if visible & changes.keys():
            changes.setdefault("updated_at", time.time())
        return replace(self, version=self.version + 1, **changes)

    def finished(self, status: str, *, message: str | None = None, **payload: Any) -> TaskRecord:
        """The terminal copy: no lease, no pending input, the payload of that status."""
        return self.changed(
            status=status,
            status_message=message if message is not None else self.status_message,
            input_requests=None,
            input_responses={},
            lease_expires=None,
            **payload,
        )

    # -- encodings ----------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> TaskRecord:
        data = json.loads(text)
        return cls(**{key: value for key, value in data.items() if key in cls.__dataclass_fields__})

    def to_wire(self) -> dict[str, Any]:
        """The ``DetailedTask`` the spec shows for this status (``tasks/get``, ``notifications/tasks``)."""
        task = wire.DetailedTask(
            task_id=self.task_id,
            status=self.status,  # type: ignore[arg-type]
            status_message=self.status_message,
            created_at=iso(self.created_at),
            last_updated_at=iso(self.updated_at),
            ttl_ms=self.ttl_ms,
            poll_interval_ms=self.poll_interval_ms,
            result=self.result if self.status == wire.COMPLETED else None,
            error=self.error if self.status == wire.FAILED else None,
            input_requests=self.input_requests if self.status == wire.INPUT_REQUIRED else None,
        )
        return task.to_wire()

    def create_result(self) -> dict[str, Any]:
        """The ``CreateTaskResult`` for the ``tools/call`` that made this task."""
        return wire.CreateTaskResult(
            task_id=self.task_id,
            status=self.status,  # type: ignore[arg-type]
            status_message=self.status_message,
            created_at=iso(self.created_at),
            last_updated_at=iso(self.updated_at),
            ttl_ms=self.ttl_ms,
            poll_interval_ms=self.poll_interval_ms,
        ).to_wire()
