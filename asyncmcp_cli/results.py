"""A short-lived cache of sent responses, so a redelivered request is answered, not re-run.

Queues deliver at least once: a request can come back after its response was
sent (the server died before deleting it, or the queue delivered a duplicate).
The server stores each response under the delivery id of the request message
(SQS keeps a message's id across redeliveries) *before* sending it; a request
whose id is found is answered from here and never executed twice.

Stores:
- ``memory`` (default): per server process. A redelivery that reaches another
  process, or the same one after a restart, is executed again.
- ``sqlite:///PATH``: a file, so the cache survives a restart of the server on
  the same machine (and is shared by server processes on that machine).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import anyio.to_thread

from asyncmcp_cli.errors import ConfigurationError

DEFAULT_TTL_SECONDS = 900.0


class ResultStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, reply: str) -> None: ...


@dataclass
class MemoryResultStore:
    ttl_seconds: float = DEFAULT_TTL_SECONDS
    _entries: dict[str, tuple[float, str]] = field(default_factory=dict)

    async def get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    async def put(self, key: str, reply: str) -> None:
        now = time.monotonic()
        if len(self._entries) > 10_000:  # sweep expired entries now and then, not on every call
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
        self._entries[key] = (now + self.ttl_seconds, reply)


class SqliteResultStore:
    """Responses in a SQLite file; every call runs off the event loop."""

    def __init__(self, path: str, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, expires REAL, reply TEXT)")

    async def get(self, key: str) -> str | None:
        return await anyio.to_thread.run_sync(self._get, key)

    async def put(self, key: str, reply: str) -> None:
        await anyio.to_thread.run_sync(self._put, key, reply)

    def _get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT reply FROM results WHERE key = ? AND expires >= ?", (key, time.time())
            ).fetchone()
        return row[0] if row else None

    def _put(self, key: str, reply: str) -> None:
        now = time.time()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", (key, now + self.ttl_seconds, reply))
            self._db.execute("DELETE FROM results WHERE expires < ?", (now,))


def open_result_store(spec: str, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> ResultStore:
    """``memory`` or ``sqlite:///path/to/file.db``."""
    if spec in ("", "memory"):
        return MemoryResultStore(ttl_seconds)
    if spec.startswith("sqlite://"):
        path = spec.removeprefix("sqlite://")
        path = path[1:] if path.startswith("//") else path  # sqlite:///abs/path keeps its leading slash
        if not path:
            raise ConfigurationError("result_cache=sqlite:///PATH needs a file path")
        return SqliteResultStore(path, ttl_seconds)
    raise ConfigurationError(f"result_cache must be 'memory' or 'sqlite:///PATH', got {spec!r}")
