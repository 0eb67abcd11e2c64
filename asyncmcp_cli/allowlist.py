"""Which reply addresses a server is willing to write to.

A client names its own reply address. Without a check, anyone who can put a
message on the request queue could make the server write to any queue, topic
or URL the server's credentials reach. An `AllowList` admits an address when
it matches one of its glob patterns:

- a pattern with ``://`` (or starting with ``arn:``) is matched against the
  whole address;
- any other pattern is matched against the address's last path segment (the
  queue or topic name), and the address must live at the same endpoint and
  account as the server's own queue (its `home`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class AllowList:
    patterns: tuple[str, ...]
    home: str | None = None
    """An address of the server's own (its request queue URL or topic ARN)."""

    @classmethod
    def of(cls, patterns: Iterable[str], *, home: str | None = None) -> AllowList:
        return cls(tuple(p for p in patterns if p), home)

    def admits(self, address: str) -> bool:
        for pattern in self.patterns:
            if _is_full(pattern):
                if fnmatch.fnmatchcase(address, pattern):
                    return True
            elif fnmatch.fnmatchcase(_name(address), pattern) and self._same_home(address):
                return True
        return False

    def _same_home(self, address: str) -> bool:
        if self.home is None or not _is_full(address):
            return True
        return _home_of(address) == _home_of(self.home)


def _is_full(text: str) -> bool:
    return "://" in text or text.startswith("arn:")


def _name(address: str) -> str:
    if address.startswith("arn:"):
        return address.rsplit(":", 1)[-1]
    return address.rstrip("/").rsplit("/", 1)[-1]


def _home_of(address: str) -> tuple[str, ...]:
    """(endpoint, account) of a queue URL, or (partition, service, region, account) of an ARN."""
    if address.startswith("arn:"):
        return tuple(address.split(":")[1:5])
    parts = urlsplit(address)
    segments = [s for s in parts.path.split("/") if s]
    account = segments[0] if len(segments) >= 2 else ""
    return (parts.scheme, (parts.hostname or "").lower(), str(parts.port or ""), account)
