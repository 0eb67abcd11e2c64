"""Small HTTP helpers shared by the webhook endpoints: bounded bodies, JSON-RPC error answers."""

from __future__ import annotations

import logging

import mcp_types as types
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive

from asyncmcp_cli.bearer import BearerToken
from asyncmcp_cli.protocol import codec

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
"""The same default as the SDK's streamable-HTTP request limit."""


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def loopback_host(request: Request) -> bool:
    """Whether the request's Host header names this machine's loopback.

    A server bound to loopback refuses other Host headers (421), as the SDK's
    own apps do: that is what stops a web page reaching it through DNS rebinding.
    """
    return (request.url.hostname or "").lower() in LOOPBACK_NAMES


def guarded(app: ASGIApp, *, token: str | None, host: str, owner: str) -> ASGIApp:
    """`app` behind a bearer token when there is one; without one, off loopback, a warning."""
    if token:
        return BearerToken(app, token=token, owner=owner)
    if host not in LOOPBACK_NAMES:
        logger.warning(
            "%s listens on %s without a bearer token: anyone who can reach it may call its tools "
            "(set ASYNCMCP_WEBHOOK_TOKEN or -o bearer_token=...)",
            owner,
            host,
        )
    return app


class BodyTooLargeError(Exception):
    """A request body over the endpoint's limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole request body; refuses anything over `limit` bytes before reading it all.

    Raises `BodyTooLargeError`, or starlette's `ClientDisconnect` when the
    client goes away mid-body.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields an already-read body once, then defers to the real one (for disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def jsonrpc_error(
    status: int,
    request_id: types.RequestId | None,
    code: int,
    text: str,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    """An HTTP error whose body is a JSON-RPC error, so an MCP client can surface it as the request's answer."""
    body = codec.encode(codec.error_reply(request_id, code, text))
    return Response(body, status_code=status, media_type="application/json", headers=headers)


__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "LOOPBACK_NAMES",
    "BodyTooLargeError",
    "ClientDisconnect",
    "jsonrpc_error",
    "loopback_host",
    "read_body",
    "replay",
]
