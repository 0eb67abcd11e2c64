"""Receipts: what a client needs to collect, later and elsewhere, the answer to a request it sent.

A receipt names the reply queue (a full URL, so another machine finds it),
the AWS endpoint and region it lives at, the client id the server addresses
its answer to, and the JSON-RPC request id. Nothing else is needed: any
process with access to that queue can collect.

Two forms, both accepted by `Receipt.parse`:

- compact, for shells and copy-paste: ``amr1.`` followed by the base64url
  (unpadded) JSON below, less the request queue;
- JSON: ``{"v": 1, "transport": "sqs", "reply_queue": "...", "client_id": "...",
  "request_id": "...", ...}`` (what ``--json`` prints; a ``receipt`` key holding
  the compact form is read too).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass
from typing import Any

from asyncmcp_cli.errors import UsageError

PREFIX = "amr1."
VERSION = 1


class BadReceiptError(UsageError):
    """Text that is not a receipt (or one from a newer version)."""


@dataclass(frozen=True)
class Receipt:
    transport: str
    reply_queue: str
    client_id: str
    request_id: str | int | None
    """None means "any answer for this client id" (collecting by ``--client-id``)."""
    method: str | None = None
    name: str | None = None
    """The tool (or prompt) the request names, for display."""
    request_queue: str | None = None
    endpoint: str | None = None
    """The AWS endpoint URL; None means real AWS (or ``AWS_ENDPOINT_URL`` at collect time)."""
    region: str | None = None
    sent_at: str | None = None
    """ISO 8601 UTC time the request was sent."""
    keep_for: int | None = None
    """Seconds the answer was asked to wait on the reply queue once sent (the server may grant less)."""

    def to_dict(self) -> dict[str, Any]:
        data = {"v": VERSION} | asdict(self)
        return {key: value for key, value in data.items() if value is not None}

    def encode(self) -> str:
        """The compact form (without the request queue: collecting does not need it)."""
        data = {key: value for key, value in self.to_dict().items() if key != "request_queue"}
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        return PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> Receipt:
        """A receipt from its compact or JSON form."""
        text = text.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadReceiptError(f"receipt is not valid JSON: {exc}") from None
            if isinstance(data, dict) and isinstance(data.get("receipt"), str):
                return cls.parse(data["receipt"])
            return cls.from_dict(data)
        if not text.startswith(PREFIX):
            raise BadReceiptError(f"not a receipt: expected text starting with {PREFIX!r} or a JSON object")
        encoded = text[len(PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            data = json.loads(raw)
        except (binascii.Error, ValueError) as exc:
            raise BadReceiptError(f"receipt is damaged (cut short when copied?): {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Receipt:
        if not isinstance(data, dict):
            raise BadReceiptError("a receipt is a JSON object")
        version = data.get("v", VERSION)
        if version != VERSION:
            raise BadReceiptError(f"receipt version {version!r} is not supported (this asyncmcp reads {VERSION})")
        missing = [key for key in ("transport", "reply_queue", "client_id") if not data.get(key)]
        if missing:
            raise BadReceiptError(f"receipt lacks {', '.join(missing)}")
        keep_for = data.get("keep_for")
        if keep_for is not None and (not isinstance(keep_for, int) or isinstance(keep_for, bool) or keep_for < 0):
            raise BadReceiptError("receipt's keep_for is not a whole number of seconds")
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})
