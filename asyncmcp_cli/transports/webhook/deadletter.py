"""Where undeliverable webhooks are kept: one JSON object per line in a file.

A response that could not be delivered after the last retry (or was refused,
or was in flight when the server shut down) is appended here with its URL,
client id, webhook id, attempt count and the reason, so an operator can find
it, and replay it (``curl -d @-`` with fresh signature headers) once the
receiver is back. The server logs one line naming this file each time.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio

logger = logging.getLogger(__name__)


def default_path() -> str:
    """``$XDG_STATE_HOME/asyncmcp/webhook-dead-letter.jsonl`` (``~/.local/state`` when unset)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state) / "asyncmcp" / "webhook-dead-letter.jsonl")


@dataclass(frozen=True)
class DeadLetter:
    url: str
    client_id: str
    webhook_id: str
    attempts: int
    reason: str
    body: str
    at: float = 0.0
    """Unix time the record was written."""


class DeadLetterFile:
    """Appends `DeadLetter` records to a JSON-lines file, creating its directory."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._lock = anyio.Lock()

    async def write(self, letter: DeadLetter) -> bool:
        """Append one record; False (and a logged error) if the file cannot be written."""
        record = asdict(letter) | {"at": letter.at or time.time()}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        async with self._lock:
            try:
                await anyio.to_thread.run_sync(self._append, line)
            except OSError as exc:
                logger.error("cannot write the webhook dead-letter file %s (%s); lost: %s", self.path, exc, line[:500])
                return False
        return True

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line)

    def read(self) -> list[DeadLetter]:
        """Every record in the file (for operators and tests)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as file:
            return [DeadLetter(**json.loads(line)) for line in file if line.strip()]
