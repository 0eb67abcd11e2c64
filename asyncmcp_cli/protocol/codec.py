"""Encoding of MCP messages on asynchronous channels.

A message body is exactly the JSON-RPC message the SDK produced. Routing facts
travel beside it, as channel attributes (SQS/SNS message attributes, HTTP
headers), so bodies stay plain MCP and any tool can read them:

- ``CLIENT_ID``: which client session the message belongs to;
- ``REPLY_TO``: where the server sends that client's messages (a queue URL, a
  topic ARN or a webhook URL);
- ``METHOD``: the JSON-RPC method, if any, for filtering and inspection;
- ``reply_expiry.REPLY_TTL``: how long the client's answers should wait for it
  (see `asyncmcp_cli.delivery.reply_expiry`).

A client that cannot set attributes may put the same facts in the request's
``params._meta`` under ``META_CLIENT_ID`` / ``META_REPLY_TO``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.shared.message import SessionMessage

from asyncmcp_cli.delivery import reply_expiry
from asyncmcp_cli.protocol.routing_attributes import (  # noqa: F401  (re-exported: the codec's vocabulary)
    CLIENT_ID,
    META_CLIENT_ID,
    META_REPLY_TO,
    METHOD,
    REPLY_TO,
)


class DecodeError(ValueError):
    """A body that is not a JSON-RPC message."""


def encode(message: SessionMessage | types.JSONRPCMessage) -> str:
    """Serialise a message to the JSON text that goes on the wire."""
    if isinstance(message, SessionMessage):
        message = message.message
    return message.model_dump_json(by_alias=True, exclude_unset=True)


def decode(body: str | bytes) -> types.JSONRPCMessage:
    """Parse wire text into a JSON-RPC message, or raise `DecodeError`."""
    try:
        return types.jsonrpc_message_adapter.validate_json(body, by_name=False)
    except Exception as exc:  # pydantic raises ValidationError for both bad JSON and bad shape
        raise DecodeError(f"not a JSON-RPC message: {_first_line(exc)}") from exc


def method_of(message: types.JSONRPCMessage) -> str | None:
    return getattr(message, "method", None)


def request_id_of(message: types.JSONRPCMessage) -> types.RequestId | None:
    """The id of a request or response; None for notifications."""
    return getattr(message, "id", None)


def is_request(message: types.JSONRPCMessage) -> bool:
    return isinstance(message, types.JSONRPCRequest)


def is_reply(message: types.JSONRPCMessage) -> bool:
    """A response or an error: the end of a request."""
    return isinstance(message, (types.JSONRPCResponse, types.JSONRPCError))


def meta_of(message: types.JSONRPCMessage) -> dict[str, Any]:
    params = getattr(message, "params", None) or {}
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta if isinstance(meta, dict) else {}


@dataclass(frozen=True)
class Routing:
    """Who sent a message and where its answers go."""

    client_id: str | None
    reply_to: str | None
    reply_ttl: float | None = None
    """Seconds the client asked its answers to wait for it (unchecked; the server clamps it)."""


def routing_from(attributes: dict[str, str], message: types.JSONRPCMessage | None) -> Routing:
    """Attributes win; `_meta` is the fallback for clients that cannot set them."""
    meta = meta_of(message) if message is not None else {}
    client_id = attributes.get(CLIENT_ID) or _str_or_none(meta.get(META_CLIENT_ID))
    reply_to = attributes.get(REPLY_TO) or _str_or_none(meta.get(META_REPLY_TO))
    reply_ttl = reply_expiry.parse_seconds(attributes.get(reply_expiry.REPLY_TTL))
    return Routing(client_id=client_id, reply_to=reply_to, reply_ttl=reply_ttl)


def error_reply(request_id: types.RequestId | None, code: int, text: str) -> types.JSONRPCError:
    """A JSON-RPC error addressed to a request (or to nobody when the id is unknown)."""
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=text))


def sniff_request_id(body: str | bytes) -> types.RequestId | None:
    """Best-effort id of a body that failed to decode, so an error can name it."""
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return None
    rid = data.get("id") if isinstance(data, dict) else None
    return rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
