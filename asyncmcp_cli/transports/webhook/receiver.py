"""The client's webhook endpoint: only verified, fresh, first-time webhooks get through.

A POST is checked in this order, and nothing that fails reaches the session:

1. body size (413 over the limit);
2. the Standard Webhooks signature against any configured secret, and the
   timestamp within ±5 minutes (401, logged in one line with the reason);
3. the ``webhook-id`` not seen before (409: see `signing.ReplayedError`).

Then the handler takes the body and says which status to answer. When it
answers 5xx (or fails), the id is forgotten again so the sender's retry is
accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from asyncmcp_cli.transports.webhook.asgi import DEFAULT_MAX_BODY_BYTES, BodyTooLargeError, ClientDisconnect, read_body
from asyncmcp_cli.transports.webhook.signing import ReplayCache, ReplayedError, VerificationError, Verifier

logger = logging.getLogger(__name__)

DEFAULT_PATH = "/webhook"

WebhookHandler = Callable[[bytes, Mapping[str, str]], Awaitable[int]]
"""handle(body, headers) -> the HTTP status to answer (2xx: taken)."""


def receiver_app(
    verifier: Verifier,
    handler: WebhookHandler,
    *,
    path: str = DEFAULT_PATH,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    replays: ReplayCache | None = None,
) -> Starlette:
    """A Starlette app taking signed webhooks on POST `path`."""
    seen = replays if replays is not None else ReplayCache()

    async def receive_webhook(request: Request) -> Response:
        peer = request.client.host if request.client else "?"
        try:
            body = await read_body(request, max_body_bytes)
        except BodyTooLargeError as exc:
            logger.warning("refused a webhook from %s: %s", peer, exc)
            return PlainTextResponse(str(exc), status_code=413)
        except ClientDisconnect:
            return Response(status_code=400)
        try:
            webhook_id = verifier.verify(body, request.headers)
            if not seen.claim(webhook_id):
                raise ReplayedError(f"webhook-id {webhook_id!r} was already received")
        except VerificationError as exc:
            log = logger.info if isinstance(exc, ReplayedError) else logger.warning
            log("refused a webhook from %s: %s", peer, exc)
            return PlainTextResponse(str(exc), status_code=exc.status)
        try:
            status = await handler(body, request.headers)
        except Exception:
            seen.release(webhook_id)
            logger.exception("webhook %s could not be handled", webhook_id)
            return Response(status_code=500)
        if status >= 500 or status == 429:
            seen.release(webhook_id)
        return Response(status_code=status)

    return Starlette(routes=[Route(path, receive_webhook, methods=["POST"])])
