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

A receipt is passed between people, so it is untrusted. `Receipt.parse`
checks every field (types, an http(s) endpoint, the shape of an AWS region, a
queue URL for the reply queue, printable ids) and refuses anything else with
a `BadReceiptError`. And collecting signs requests with the collector's own
AWS credentials: a receipt naming ``endpoint=http://attacker`` would have them
sent there, and whatever answered believed. So `Receipt.bound_to` lets a
receipt's endpoint and region through only when they are the configured ones
(or the user says, with ``trust``, that they trust the receipt), and checks
that the reply queue is a queue of the endpoint that will be asked.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import json
import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from asyncmcp_cli.aws import AwsSettings
from asyncmcp_cli.errors import UsageError

PREFIX = "amr1."
VERSION = 1

TRANSPORTS = ("sqs", "sns+sqs")
"""The transports whose answers wait on a queue, so a receipt can name them."""

MAX_TEXT = 256
"""Longest id, method, name or timestamp a receipt may carry."""

MAX_URL = 2048

MAX_KEEP_SECONDS = 14 * 24 * 3600
"""Longest keep time a receipt may name: SQS keeps no message longer (14 days)."""

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_QUEUE_PATH = re.compile(r"/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,80}(\.fifo)?")
"""``/ACCOUNT/QUEUE-NAME``: the path of an SQS queue URL (AWS, moto, LocalStack, ElasticMQ)."""


class BadReceiptError(UsageError):
    """Text that is not a receipt (or one from a newer version), or a receipt with a field that is not right."""


class ForeignEndpointError(UsageError):
    """A receipt names an AWS endpoint or region other than the configured one, and was not trusted with it."""


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
            except (json.JSONDecodeError, RecursionError) as exc:
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
        except (binascii.Error, ValueError, RecursionError) as exc:
            raise BadReceiptError(f"receipt is damaged (cut short when copied?): {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Receipt:
        """A receipt from its JSON object, every field checked (unknown keys are ignored)."""
        if not isinstance(data, dict):
            raise BadReceiptError("a receipt is a JSON object")
        version = data.get("v", VERSION)
        if version != VERSION or isinstance(version, bool):
            raise BadReceiptError(f"receipt version {_shown(version)} is not supported (this asyncmcp reads {VERSION})")
        missing = [
            key for key in ("transport", "reply_queue", "client_id", "request_id") if data.get(key) in (None, "")
        ]
        if missing:
            raise BadReceiptError(f"receipt lacks {', '.join(missing)}")
        transport = _text(data, "transport")
        if transport not in TRANSPORTS:
            raise BadReceiptError(
                f"receipt names transport {_shown(transport)}; collecting reads {', '.join(TRANSPORTS)}"
            )
        endpoint = _optional(data, "endpoint", _endpoint_url)
        region = _optional(data, "region", _region)
        return cls(
            transport=transport,
            reply_queue=_queue_url(data, "reply_queue"),
            client_id=_text(data, "client_id"),
            request_id=_request_id(data["request_id"]),
            method=_optional(data, "method", _text),
            name=_optional(data, "name", _text),
            request_queue=_optional(data, "request_queue", _any_url),
            endpoint=endpoint,
            region=region,
            sent_at=_optional(data, "sent_at", _text),
            keep_for=_optional(data, "keep_for", _seconds),
        )

    def bound_to(self, configured: AwsSettings, *, trust: bool = False) -> Receipt:
        """This receipt, to be collected at the configured endpoint and region.

        The receipt's own endpoint and region are used only when they are the
        configured ones, or when `trust` says the user trusts the receipt with
        their credentials; otherwise `ForeignEndpointError`. Either way the
        reply queue must be a queue URL of the endpoint that will be asked.
        """
        endpoint, region = configured.resolved_endpoint, configured.resolved_region
        foreign_endpoint = self.endpoint is not None and _origin(self.endpoint) != _origin(endpoint)
        foreign_region = self.region is not None and self.region != region
        if (foreign_endpoint or foreign_region) and not trust:
            theirs = _where(self.endpoint or endpoint, self.region or region)
            ours = _where(endpoint, region)
            flags = (f" --endpoint-url {self.endpoint}" if foreign_endpoint else "") + (
                f" --region {self.region}" if foreign_region else ""
            )
            raise ForeignEndpointError(
                f"the receipt names {theirs}, not the configured {ours}; collecting signs requests "
                f"with your AWS credentials, so only if you trust the receipt: pass{flags}, "
                "or --trust-receipt-endpoint"
            )
        if trust:
            endpoint, region = self.endpoint or endpoint, self.region or region
        _check_queue_of(self.reply_queue, endpoint, region)
        return dataclasses.replace(self, endpoint=endpoint, region=region)


def _where(endpoint: str | None, region: str) -> str:
    return f"endpoint {endpoint}, region {region}" if endpoint else f"real AWS, region {region}"


# -- field checks ---------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value from a receipt, quoted for an error message: printable (``repr`` escapes) and cut short."""
    text = repr(value)
    text = text if len(text) <= 120 else text[:117] + "..."
    return "".join(char if char.isprintable() else f"\\u{ord(char):04x}" for char in text)


def _optional(data: dict[str, Any], key: str, check: Any) -> Any:
    return None if data.get(key) is None else check(data, key)


def _text(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise BadReceiptError(f"receipt {key} must be text, not {_shown(value)}")
    if not value or len(value) > MAX_TEXT or not value.isprintable():
        raise BadReceiptError(f"receipt {key} {_shown(value)} is not a printable text of 1 to {MAX_TEXT} characters")
    return value


def _request_id(value: Any) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 2**53:
            raise BadReceiptError(f"receipt request_id {value} is out of range")
        return value
    if isinstance(value, str):
        return _text({"request_id": value}, "request_id")
    raise BadReceiptError(f"receipt request_id must be text or an integer, not {_shown(value)}")


def _url(data: dict[str, Any], key: str) -> tuple[str, Any]:
    value = data[key]
    if not isinstance(value, str):
        raise BadReceiptError(f"receipt {key} must be a URL, not {_shown(value)}")
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        parts = None
    if (
        parts is None
        or len(value) > MAX_URL
        or not value.isprintable()
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.fragment
    ):
        raise BadReceiptError(f"receipt {key} {_shown(value)} is not an http(s) URL")
    return value, parts


def _any_url(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if isinstance(value, str) and value.startswith("arn:") and value.isprintable() and len(value) <= MAX_URL:
        return value  # the request topic, for sns+sqs
    return _url(data, key)[0]


def _endpoint_url(data: dict[str, Any], key: str) -> str:
    value, parts = _url(data, key)
    if parts.path not in ("", "/") or parts.query:
        raise BadReceiptError(f"receipt {key} {_shown(value)} is not an endpoint URL (it has a path or query)")
    return value


def _queue_url(data: dict[str, Any], key: str) -> str:
    value, parts = _url(data, key)
    if not _QUEUE_PATH.fullmatch(parts.path) or parts.query:
        raise BadReceiptError(f"receipt {key} {_shown(value)} is not an SQS queue URL (…/ACCOUNT/QUEUE-NAME)")
    return value


def _seconds(data: dict[str, Any], key: str) -> int:
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_KEEP_SECONDS:
        raise BadReceiptError(f"receipt {key} {_shown(value)} is not a whole number of seconds")
    return value


def _region(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise BadReceiptError(f"receipt {key} {_shown(value)} is not an AWS region (like us-east-1)")
    return value


def _origin(url: str | None) -> tuple[str, str, int | None] | None:
    """What identifies an endpoint: scheme, host, port (a trailing slash or the default port is the same one)."""
    if url is None:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return (url, "", None)
    return (parts.scheme, (parts.hostname or "").lower(), port)


_AWS_QUEUE_HOSTS = (
    "sqs.{region}.amazonaws.com",
    "sqs-fips.{region}.amazonaws.com",
    "{region}.queue.amazonaws.com",
    "sqs.{region}.amazonaws.com.cn",
    "queue.amazonaws.com",
)

LOCALSTACK_DOMAIN = "localhost.localstack.cloud"
"""LocalStack's queue URLs name hosts under this domain (which resolves to 127.0.0.1)."""


def _is_local(host: str) -> bool:
    if host in ("localhost", LOCALSTACK_DOMAIN) or host.endswith("." + LOCALSTACK_DOMAIN):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_queue_of(queue_url: str, endpoint: str | None, region: str) -> None:
    """Refuse a reply queue URL that does not belong to `endpoint` (real AWS in `region` when None)."""
    scheme, host, port = _origin(queue_url) or ("", "", None)
    if endpoint is None:
        ours = scheme == "https" and host in {h.format(region=region) for h in _AWS_QUEUE_HOSTS}
        where = f"AWS in {region}"
    else:
        _, e_host, e_port = _origin(endpoint) or ("", "", None)
        same_host = host == e_host or host.endswith("." + e_host) or (_is_local(host) and _is_local(e_host))
        ours = port == e_port and same_host
        where = endpoint
    if not ours:
        raise BadReceiptError(f"receipt reply_queue {_shown(queue_url)} is not a queue of {where}")
