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
- ``s3://BUCKET/PREFIX``: S3 objects, shared by every server process on every
  machine that reads the queue. Costs one GET per request and one PUT per
  response, both before the response is sent. Expired entries are ignored; the
  bucket's lifecycle rule (set by ``asyncmcp provision --bucket``) deletes them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import anyio.to_thread

from asyncmcp_cli import aws
from asyncmcp_cli.delivery.bucket_layout import RESULTS_PREFIX
from asyncmcp_cli.errors import ConfigurationError, TransportError

DEFAULT_TTL_SECONDS = 900.0
_EXPIRES = "asyncmcp-expires"


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


class S3ResultStore:
    """Responses as S3 objects (one per request), so every server process shares them."""

    def __init__(
        self,
        settings: aws.AwsSettings,
        bucket: str,
        prefix: str = RESULTS_PREFIX,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._s3 = aws.client("s3", settings)

    async def get(self, key: str) -> str | None:
        try:
            expires, body = await aws.call(self._fetch, key=self.prefix + key)
        except TransportError as exc:
            if aws.error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        return body.decode() if expires >= time.time() else None

    def _fetch(self, key: str) -> tuple[float, bytes]:
        """(expiry, body) of one stored response, in one trip off the event loop."""
        response = self._s3.get_object(Bucket=self.bucket, Key=key)
        return float(response.get("Metadata", {}).get(_EXPIRES, "inf")), response["Body"].read()

    async def put(self, key: str, reply: str) -> None:
        await aws.call(
            self._s3.put_object,
            Bucket=self.bucket,
            Key=self.prefix + key,
            Body=reply.encode(),
            ContentType="application/json",
            Metadata={_EXPIRES: f"{time.time() + self.ttl_seconds:.0f}"},
        )


def open_result_store(
    spec: str, ttl_seconds: float = DEFAULT_TTL_SECONDS, settings: aws.AwsSettings | None = None
) -> ResultStore:
    """``memory``, ``sqlite:///path/to/file.db`` or ``s3://bucket/prefix/`` (at the endpoint `settings` name)."""
    if spec in ("", "memory"):
        return MemoryResultStore(ttl_seconds)
    if spec.startswith("sqlite://"):
        path = spec.removeprefix("sqlite://")
        path = path[1:] if path.startswith("//") else path  # sqlite:///abs/path keeps its leading slash
        if not path:
            raise ConfigurationError("result_cache=sqlite:///PATH needs a file path")
        return SqliteResultStore(path, ttl_seconds)
    if spec.startswith("s3://"):
        parts = urlsplit(spec)
        if not parts.netloc:
            raise ConfigurationError("result_cache=s3://BUCKET/PREFIX needs a bucket name")
        prefix = parts.path.lstrip("/") or RESULTS_PREFIX
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        return S3ResultStore(settings or aws.AwsSettings(), parts.netloc, prefix, ttl_seconds)
    raise ConfigurationError(f"result_cache must be 'memory', 'sqlite:///PATH' or 's3://BUCKET/PREFIX', got {spec!r}")
