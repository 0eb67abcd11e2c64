"""What the webhook tests share: a secret, signed POSTs, a scripted receiver, raw MCP requests."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.webhook.serving import Bound, serve_asgi
from asyncmcp_cli.transports.webhook.signing import Signer, Verifier, generate_secret, new_message_id

SECRET = generate_secret()
OTHER_SECRET = generate_secret()
MODERN = "2026-07-28"


async def post_signed(
    url: str,
    body: str,
    *,
    secret: str = SECRET,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    """POST `body` to a receiver the way a server delivers a webhook."""
    signed = Signer([secret]).headers(body, message_id=message_id or new_message_id())
    async with httpx2.AsyncClient() as client:
        return await client.post(
            url, content=body.encode(), headers=signed | {"content-type": "application/json"} | (headers or {})
        )


def loopback_options(tmp_path: Path) -> dict[str, object]:
    """Options for a webhook server on a free loopback port that may POST to loopback receivers, retrying fast."""
    return {
        "port": 0,
        "webhook_secret": (SECRET,),
        "allow_webhook": ("http://127.0.0.1:*",),
        "dead_letter": str(tmp_path / "dead-letter.jsonl"),
        "retry_base_delay": 0.05,
        "retry_max_delay": 0.5,
    }


def reserve_port() -> int:
    """A port that is free now (nothing listens on it until a test starts something there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Arrival:
    at: float
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ScriptedReceiver:
    """A webhook endpoint that answers from a script (then 200) and records every arrival.

    With `verify` set, it answers 401 to anything the secret does not verify,
    like a real receiver.
    """

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    verify: str | None = None
    delay_first: float = 0.0
    arrivals: list[Arrival] = field(default_factory=list)

    def app(self) -> Starlette:
        verifier = Verifier([self.verify]) if self.verify else None

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            self.arrivals.append(Arrival(time.monotonic(), dict(request.headers), body))
            if self.delay_first and len(self.arrivals) == 1:
                await anyio.sleep(self.delay_first)
            if verifier is not None:
                try:
                    verifier.verify(body, request.headers)
                except Exception:
                    return Response(status_code=401)
            status, headers = self.script.pop(0) if self.script else (200, {})
            return Response(status_code=status, headers=headers)

        return Starlette(routes=[Route("/webhook", endpoint, methods=["POST"])])

    @asynccontextmanager
    async def running(self, port: int = 0) -> AsyncIterator[Bound]:
        async with serve_asgi(self.app(), "127.0.0.1", port, graceful_seconds=1) as bound:
            yield bound

    def bodies(self) -> list[Any]:
        return [arrival.json() for arrival in self.arrivals]


def tool_call(name: str, arguments: dict[str, Any], *, rid: int | str = 1) -> dict[str, Any]:
    """A stateless-era (2026-07-28) ``tools/call`` request as an SDK client would POST it."""
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {
            "name": name,
            "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }


def http_headers(message: dict[str, Any], *, reply_to: str | None = None, client_id: str = "raw") -> dict[str, str]:
    """The headers a stateless-era streamable-HTTP POST of `message` carries, plus our routing."""
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": message["method"],
        codec.CLIENT_ID: client_id,
    }
    if message["method"] == "tools/call":
        headers["mcp-name"] = message["params"]["name"]
    if reply_to:
        headers[codec.REPLY_TO] = reply_to
    return headers
