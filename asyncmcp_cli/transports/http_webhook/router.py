"""The ASGI app in front of the SDK's session manager: webhook tool calls answer 202, then by webhook.

Every request goes to the SDK's `StreamableHTTPSessionManager` unchanged,
except a ``tools/call`` of a webhook tool from a client that declared a
webhook URL (``asyncmcp-reply-to`` header or ``io.asyncmcp/replyTo`` in
``params._meta``). That one is answered at once:

- ``202 Accepted`` with ``asyncmcp-delivery: webhook``; the call is then
  replayed into the session manager in the background (`capture`), and each
  message it produces (progress notifications, then the response) is POSTed,
  signed and in order, to the webhook, with ``asyncmcp-request-id`` naming the
  request (JSON-encoded, so ``1`` and ``"1"`` stay apart);
- ``403`` with a JSON-RPC error if the URL policy refuses the webhook URL
  (nothing is POSTed to it); ``503`` while the server shuts down.

A webhook tool called without a webhook URL runs like any other tool, on the
HTTP request, so plain streamable-HTTP clients still work. Bodies over the
limit get ``413`` with a JSON-RPC error before anything else reads them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from asyncmcp_cli.errors import PayloadTooLargeError, ReplyAddressRefusedError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.http_webhook.capture import run_captured
from asyncmcp_cli.transports.http_webhook.tools import WebhookTools
from asyncmcp_cli.transports.webhook.asgi import (
    BodyTooLargeError,
    ClientDisconnect,
    jsonrpc_error,
    loopback_host,
    read_body,
    replay,
)
from asyncmcp_cli.transports.webhook.delivery import WebhookSender
from asyncmcp_cli.transports.webhook.urlpolicy import UrlPolicy

logger = logging.getLogger(__name__)

DELIVERY_HEADER = "asyncmcp-delivery"
REQUEST_ID_HEADER = "asyncmcp-request-id"


class WebhookCallRouter:
    """See the module docstring. `jobs` runs the background calls; `drain` waits for them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tools: WebhookTools,
        policy: UrlPolicy,
        sender: WebhookSender,
        jobs: anyio.abc.TaskGroup,
        max_body: int,
        loopback_only: bool = False,
    ) -> None:
        self._app = app
        self._loopback_only = loopback_only
        self._tools = tools
        self._policy = policy
        self._sender = sender
        self._jobs = jobs
        self._max_body = max_body
        self.running = 0
        self._idle = anyio.Event()
        self._idle.set()
        self.draining = False

    async def drain(self, grace_seconds: float) -> int:
        """Refuse new webhook calls; wait up to `grace_seconds` for running ones; return how many still run."""
        self.draining = True
        with anyio.move_on_after(grace_seconds):
            await self._idle.wait()
        return self.running

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            body = await read_body(request, self._max_body)
        except BodyTooLargeError as exc:
            await jsonrpc_error(413, None, types.INVALID_REQUEST, f"asyncmcp: {exc}")(scope, receive, send)
            return
        except ClientDisconnect:
            return
        call = _webhook_call(body, self._tools)
        reply_to = (request.headers.get(codec.REPLY_TO) or _meta_str(call, codec.META_REPLY_TO)) if call else None
        if call is None or not reply_to or not self._host_ok(request):
            # the SDK answers it, including the refusal of a foreign Host header (DNS rebinding)
            await self._app(scope, replay(body, receive), send)
            return
        response = await self._accept(scope, body, call, reply_to, request.headers.get(codec.CLIENT_ID))
        await response(scope, receive, send)

    def _host_ok(self, request: Request) -> bool:
        return not self._loopback_only or loopback_host(request)

    async def _accept(
        self, scope: Scope, body: bytes, call: dict[str, Any], reply_to: str, client_id: str | None
    ) -> Response:
        rid = call["id"]
        client_id = client_id or _meta_str(call, codec.META_CLIENT_ID) or "-"
        if self.draining:
            text = "asyncmcp: the server is shutting down"
            return jsonrpc_error(503, rid, types.INTERNAL_ERROR, text, headers={"retry-after": "5"})
        try:
            await self._policy.check(reply_to)
        except ReplyAddressRefusedError as exc:
            logger.warning("refusing webhook call %s from client %s: %s", rid, client_id, exc)
            return jsonrpc_error(403, rid, types.INVALID_REQUEST, f"asyncmcp: {exc}")
        self.running += 1
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        self._jobs.start_soon(self._run, scope, body, rid, reply_to, client_id)
        return Response(status_code=202, headers={DELIVERY_HEADER: "webhook", REQUEST_ID_HEADER: json.dumps(rid)})

    async def _run(self, scope: Scope, body: bytes, rid: types.RequestId, reply_to: str, client_id: str) -> None:
        headers = {REQUEST_ID_HEADER: json.dumps(rid)}
        answered = False

        async def deliver(message: dict[str, Any]) -> bool:
            nonlocal answered
            final = "id" in message and ("result" in message or "error" in message)
            text = json.dumps(message, separators=(",", ":"))
            try:
                await self._sender.send(reply_to, text, client_id=client_id, headers=headers)
            except PayloadTooLargeError as exc:
                if not final:
                    logger.warning("dropping an oversize notification for client %s: %s", client_id, exc)
                    return False
                error = codec.encode(codec.error_reply(rid, types.INTERNAL_ERROR, f"asyncmcp: {exc}"))
                await self._sender.send(reply_to, error, client_id=client_id, headers=headers)
            answered = answered or final
            return final

        try:
            status = await run_captured(self._app, scope, body, deliver)
            if not answered:
                text = f"asyncmcp: the server ended webhook call {rid} without a response (HTTP {status})"
                logger.warning(text)
                error = codec.encode(codec.error_reply(rid, types.INTERNAL_ERROR, text))
                await self._sender.send(reply_to, error, client_id=client_id, headers=headers)
        finally:
            self.running -= 1
            if not self.running:
                self._idle.set()


def _webhook_call(body: bytes, tools: WebhookTools) -> dict[str, Any] | None:
    """The request, if `body` is a ``tools/call`` of a webhook tool."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    rid, params = message.get("id"), message.get("params")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or not isinstance(params, dict):
        return None
    return message if params.get("name") in tools else None


def _meta_str(call: dict[str, Any] | None, key: str) -> str | None:
    meta = (call or {}).get("params", {}).get("_meta")
    value = meta.get(key) if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None
