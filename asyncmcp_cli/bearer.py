"""Bearer-token access control for the HTTP endpoints asyncmcp serves (proxy front, webhook servers)."""

from __future__ import annotations

import hmac
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


class BearerToken:
    """ASGI middleware: requests need ``Authorization: Bearer <token>`` (constant-time compare).

    CORS preflights (``OPTIONS``) and `open_paths` pass without one, so that
    browsers can ask first and health checks need no secret.
    """

    def __init__(self, app: ASGIApp, *, token: str, owner: str, open_paths: tuple[str, ...] = ()) -> None:
        self._app = app
        self._expected = token.encode()
        self._owner = owner
        self._open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or scope["path"] in self._open_paths:
            await self._app(scope, receive, send)
            return
        header = Request(scope).headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self._expected):
            await self._app(scope, receive, send)
            return
        body = {"error": "invalid_token", "error_description": f"{self._owner}: a valid bearer token is required"}
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        response = Response(json.dumps(body), status_code=401, media_type="application/json", headers=headers)
        await response(scope, receive, send)


def bearer_header(token: str | None) -> dict[str, str]:
    """The request header that presents `token` (none without one)."""
    return {"Authorization": f"Bearer {token}"} if token else {}
