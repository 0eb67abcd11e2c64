"""Where tasks live, so every server process on a queue sees the same ones.

Stores (the URL style of ``serve --result-cache``):

- ``memory`` (default): this process only. Tasks die with it.
- ``sqlite:///PATH``: a file; survives a restart and is shared by the server
  processes on that machine.
- ``s3://BUCKET/PREFIX``: one object per task, shared by every process on
  every machine. Writes are conditional (``If-None-Match: *`` to create,
  ``If-Match: ETAG`` to change), so two workers never both win.

A store only creates, loads, swaps (compare-and-swap on a token it handed out
with the load) and deletes records. Every change of a task is one
`update` call: load, decide, swap, and try again if someone else wrote first,
so a terminal state is never overwritten by a late writer who had not seen it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import anyio.to_thread

from asyncmcp_cli.delivery.bucket_layout import TASKS_PREFIX
from asyncmcp_cli.errors import ConfigurationError, TransportError
from asyncmcp_cli.tasks.record import TaskRecord

DEFAULT_PREFIX = TASKS_PREFIX
_UPDATE_ATTEMPTS = 16


class TaskStoreConflictError(TransportError):
    """Other writers kept changing a task faster than this one could."""


Token = Any
"""What a store needs to detect a concurrent write (a version number, an ETag)."""


class TaskStore(Protocol):
    async def create(self, record: TaskRecord) -> bool:
        """Store a new task; False if one with that id exists."""
        ...

    async def load(self, task_id: str) -> tuple[TaskRecord, Token] | None: ...

    async def swap(self, record: TaskRecord, token: Token) -> bool:
        """Replace the task if it is still as loaded with `token`; False if it changed (or vanished)."""
        ...

    async def delete(self, task_id: str) -> None: ...

    def describe(self) -> str: ...


async def update(
    store: TaskStore, task_id: str, change: Callable[[TaskRecord], TaskRecord | None]
) -> TaskRecord | None:
    """Apply `change` to the stored task atomically; return what is stored afterwards.

    `change` returns the new record, or None to leave the task as it is. None
    overall if there is no such task.
    """
    for _ in range(_UPDATE_ATTEMPTS):
        loaded = await store.load(task_id)
        if loaded is None:
            return None
        record, token = loaded
        new = change(record)
        if new is None:
            return record
        if await store.swap(new, token):
            return new
    raise TaskStoreConflictError(f"task {task_id[:12]}... kept changing under us; giving up this write")


@dataclass
class MemoryTaskStore:
    """Tasks in this process's memory (every server object in the process shares one instance)."""

    max_tasks: int = 100_000
    _records: dict[str, TaskRecord] = field(default_factory=dict)

    async def create(self, record: TaskRecord) -> bool:
        if record.task_id in self._records:
            return False
        if len(self._records) >= self.max_tasks:
            now = time.time()
            self._records = {k: r for k, r in self._records.items() if not r.expired(now)}
        self._records[record.task_id] = record
        return True

    async def load(self, task_id: str) -> tuple[TaskRecord, Token] | None:
        record = self._records.get(task_id)
        return None if record is None else (record, record.version)

    async def swap(self, record: TaskRecord, token: Token) -> bool:
        current = self._records.get(record.task_id)
        if current is None or current.version != token:
            return False
        self._records[record.task_id] = record
        return True

    async def delete(self, task_id: str) -> None:
        self._records.pop(task_id, None)

    def describe(self) -> str:
        return "memory"


class SqliteTaskStore:
    """Tasks in a SQLite file; a version column makes every change a compare-and-swap."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, version INTEGER, expires REAL, body TEXT)"
            )
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot open the task store {path}: {exc}") from exc

    async def create(self, record: TaskRecord) -> bool:
        return await anyio.to_thread.run_sync(self._create, record)

    async def load(self, task_id: str) -> tuple[TaskRecord, Token] | None:
        return await anyio.to_thread.run_sync(self._load, task_id)

    async def swap(self, record: TaskRecord, token: Token) -> bool:
        return await anyio.to_thread.run_sync(self._swap, record, token)

    async def delete(self, task_id: str) -> None:
        await anyio.to_thread.run_sync(self._run, "DELETE FROM tasks WHERE id = ?", (task_id,))

    def describe(self) -> str:
        return f"sqlite:///{self.path.lstrip('/')}" if self.path.startswith("/") else f"sqlite://{self.path}"

    def _run(self, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, args)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise TransportError(f"task store {self.path}: {exc}") from exc

    def _create(self, record: TaskRecord) -> bool:
        self._run("DELETE FROM tasks WHERE expires < ?", (time.time(),))
        try:
            self._run(
                "INSERT INTO tasks VALUES (?, ?, ?, ?)",
                (record.task_id, record.version, _expiry(record), record.to_json()),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def _load(self, task_id: str) -> tuple[TaskRecord, Token] | None:
        row = self._run("SELECT version, body FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else (TaskRecord.from_json(row[1]), row[0])

    def _swap(self, record: TaskRecord, token: Token) -> bool:
        cursor = self._run(
            "UPDATE tasks SET version = ?, expires = ?, body = ? WHERE id = ? AND version = ?",
            (record.version, _expiry(record), record.to_json(), record.task_id, token),
        )
        return cursor.rowcount == 1


def _expiry(record: TaskRecord) -> float:
    expires = record.expires_at
    return float("inf") if expires is None else expires


def open_task_store(spec: str, settings: Any = None) -> TaskStore:
    """``memory``, ``sqlite:///PATH`` or ``s3://BUCKET/PREFIX`` (at the AWS endpoint `settings` names)."""
    if spec in ("", "memory"):
        return MemoryTaskStore()
    if spec.startswith("sqlite://"):
        path = spec.removeprefix("sqlite://")
        path = path[1:] if path.startswith("//") else path  # sqlite:///abs/path keeps its leading slash
        if not path:
            raise ConfigurationError("--task-store sqlite:///PATH needs a file path")
        return SqliteTaskStore(path)
    if spec.startswith("s3://"):
        from asyncmcp_cli import aws
        from asyncmcp_cli.tasks.s3_store import S3TaskStore

        parts = urlsplit(spec)
        if not parts.netloc:
            raise ConfigurationError("--task-store s3://BUCKET/PREFIX needs a bucket name")
        prefix = parts.path.lstrip("/") or DEFAULT_PREFIX
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        return S3TaskStore(settings or aws.AwsSettings(), parts.netloc, prefix)
    raise ConfigurationError(f"--task-store must be 'memory', 'sqlite:///PATH' or 's3://BUCKET/PREFIX', got {spec!r}")
