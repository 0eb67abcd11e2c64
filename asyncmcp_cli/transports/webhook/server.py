"""The server side of the ``webhook`` transport: take requests by POST, answer by webhook.

``POST /mcp`` (the path is configurable) with one JSON-RPC message as an
``application/json`` body, and routing in headers (``asyncmcp-client-id``,
``asyncmcp-reply-to``) or the request's ``params._meta``
(``io.asyncmcp/clientId``, ``io.asyncmcp/replyTo``). Answers:

- ``202 Accepted`` at once: the message is in the client's SDK session; its
  response (and any notification or server request) is POSTed, signed, to the
  client's webhook URL;
- ``400`` with a JSON-RPC error: not JSON-RPC, or no client id / webhook URL;
- ``403`` with a JSON-RPC error: the webhook URL is refused by the URL policy
  (nothing is POSTed to it);
- ``413`` oversize body, ``415`` not JSON, ``503`` (with ``Retry-After``)
  while the server is shutting down, ``421`` a Host header that is not
  loopback when the server is bound to loopback (DNS-rebinding protection).

Sessions are demultiplexed by client id in the shared `SessionHub`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import mcp_types as types
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from asyncmcp_cli.errors import ReplyAddressRefusedError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.base import Connection
from asyncmcp_cli.transports.hub import Inbound, SessionHub
from asyncmcp_cli.transports.webhook.asgi import (
    LOOPBACK_NAMES,
    BodyTooLargeError,
    ClientDisconnect,
    guarded,
    jsonrpc_error,
    loopback_host,
    read_body,
)
from asyncmcp_cli.transports.webhook.delivery import WebhookSender
from asyncmcp_cli.transports.webhook.serving import Bound, serve_asgi
from asyncmcp_cli.transports.webhook.urlpolicy import UrlPolicy

logger = logging.getLogger(__name__)

RETRY_AFTER_DRAINING = "5"


class WebhookListener:
    """Yields one `Connection` per client; `drain` stops intake and waits for running requests."""

    def __init__(self, hub: SessionHub) -> None:
        self._hub = hub
        self.bound: Bound | None = None
        self.draining = False

    def __aiter__(self) -> AsyncIterator[Connection]:
        return self._hub.__aiter__()

    async def drain(self, grace_seconds: float) -> int:
        self.draining = True
        return await self._hub.drain(grace_seconds)


def request_app(
    hub: SessionHub,
    policy: UrlPolicy,
    listener: WebhookListener,
    *,
    path: str,
    max_body: int,
    loopback_only: bool = False,
) -> Starlette:
    """The Starlette app that feeds POSTed messages into the hub.

    With `loopback_only` (the server is bound to loopback), a foreign Host
    header is refused with 421 (see `asgi.loopback_host`).
    """

    async def take(request: Request) -> Response:
        if loopback_only and not loopback_host(request):
            return PlainTextResponse("Invalid Host header", status_code=421)
        if listener.draining:
            return jsonrpc_error(
                503,
                None,
                types.INTERNAL_ERROR,
                "asyncmcp: the server is shutting down",
                headers={"retry-after": RETRY_AFTER_DRAINING},
            )
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media != "application/json":
            return jsonrpc_error(415, None, types.INVALID_REQUEST, "asyncmcp: send the message as application/json")
        try:
            body = await read_body(request, max_body)
        except BodyTooLargeError as exc:
            return jsonrpc_error(413, None, types.INVALID_REQUEST, f"asyncmcp: {exc}")
        except ClientDisconnect:
            return Response(status_code=400)
        try:
            message = codec.decode(body)
        except codec.DecodeError as exc:
            return jsonrpc_error(400, codec.sniff_request_id(body), types.PARSE_ERROR, f"asyncmcp: {exc}")
        rid = codec.request_id_of(message) if codec.is_request(message) else None
        routing = codec.routing_from(dict(request.headers), message)
        if not routing.client_id or not routing.reply_to:
            missing = "client id" if not routing.client_id else "webhook URL"
            return jsonrpc_error(
                400,
                rid,
                types.INVALID_REQUEST,
                f"asyncmcp: no {missing}: set the {codec.CLIENT_ID} and {codec.REPLY_TO} headers "
                f"(or {codec.META_CLIENT_ID} / {codec.META_REPLY_TO} in params._meta)",
            )
        try:
            await policy.check(routing.reply_to)
        except ReplyAddressRefusedError as exc:
            logger.warning("refusing a message from client %s: %s", routing.client_id, exc)
            return jsonrpc_error(403, rid, types.INVALID_REQUEST, f"asyncmcp: {exc}")
        await hub.deliver(Inbound(routing, message, ack=_settled, release=_settled, raw_body=body))
        return Response(status_code=202)

    return Starlette(routes=[Route(path, take, methods=["POST"])])


async def _settled() -> None:
    """HTTP has no redelivery: once answered 202, a request is the server's to finish."""


@asynccontextmanager
async def webhook_listener(
    sender: WebhookSender,
    policy: UrlPolicy,
    *,
    host: str,
    port: int,
    path: str,
    max_body: int,
    idle_timeout: float,
    token: str | None = None,
) -> AsyncIterator[WebhookListener]:
    """Serve the request endpoint on ``host:port`` (behind `token`, if any); replies go out through `sender`."""

    async def send_reply(
        reply_to: str,
        client_id: str,
        message: types.JSONRPCMessage,
        extra: Mapping[str, str],
        *,
        reply_ttl: float | None = None,
    ) -> None:  # delivered at once or dead-lettered: nothing waits to expire
        headers = dict(extra) | ({codec.METHOD: method} if (method := codec.method_of(message)) else {})
        await sender.send(reply_to, codec.encode(message), client_id=client_id, headers=headers)

    hub = SessionHub(send_reply, admits=policy.matches, idle_timeout=idle_timeout)
    async with hub.running():
        listener = WebhookListener(hub)
        app = request_app(hub, policy, listener, path=path, max_body=max_body, loopback_only=host in LOOPBACK_NAMES)
        app = guarded(app, token=token, host=host, owner="asyncmcp webhook server")
        async with serve_asgi(app, host, port) as bound:
            listener.bound = bound
            logger.info("webhook transport listening on %s", bound.url(path))
            yield listener
