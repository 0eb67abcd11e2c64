"""The streamable HTTP front: ordinary MCP clients connect to a URL, the backend sits behind a transport.

The SDK's `StreamableHTTPSessionManager` does all of streamable HTTP (sessions,
SSE and JSON responses, both protocol eras, the request-size limit, Host and
Origin checks); it runs the forwarding server (`forwarder`) for every session.
Around it, a small Starlette app adds:

- ``GET /health`` (always open, answers ``{"status": "ok"}``);
- an optional bearer token, compared in constant time, on everything else
  (CORS preflights pass, so browsers can ask first);
- CORS for the configured origins;
- loopback-only binding unless told otherwise (``--listen http://0.0.0.0:...``);
  on a loopback address DNS-rebinding protection is on, as in the SDK's own app.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asyncmcp_cli.bearer import BearerToken
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.observability import recorder
from asyncmcp_cli.proxy.backend import Backend
from asyncmcp_cli.proxy.forwarder import proxy_server
from asyncmcp_cli.server import until_signalled
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.webhook.serving import serve_asgi

logger = logging.getLogger(__name__)

DEFAULT_LISTEN = "http://127.0.0.1:8080/mcp"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class HttpFrontOptions:
    """How the HTTP front listens and whom it lets in."""

    listen: str = DEFAULT_LISTEN
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_REQUEST_BODY_SIZE
    session_idle_seconds: float = 1800.0
    allowed_hosts: tuple[str, ...] = field(default=())
    """Extra Host header values accepted on a loopback bind (DNS-rebinding protection)."""


@dataclass(frozen=True)
class ListenAddress:
    host: str
    port: int
    path: str

    @property
    def loopback(self) -> bool:
        return self.host in _LOOPBACK

    def url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port if port is None else port}{self.path}"


def parse_listen(url: str) -> ListenAddress:
    """``http://HOST:PORT/PATH`` (port 0 picks a free one; path defaults to ``/mcp``)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http":
        raise ConfigurationError(f"--listen must be an http:// URL (put TLS in front of the proxy), got {url!r}")
    try:
        port = parts.port if parts.port is not None else 8080
    except ValueError as exc:
        raise ConfigurationError(f"--listen {url!r}: {exc}") from None
    path = parts.path.rstrip("/") or "/mcp"
    return ListenAddress(parts.hostname or "127.0.0.1", port, path)


def front_app(manager: StreamableHTTPSessionManager, address: ListenAddress, options: HttpFrontOptions) -> Starlette:
    """The Starlette app of the HTTP front (without the session manager's lifespan: the caller runs it)."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    middleware = []
    if options.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(options.cors_origins),
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=["*"],
                expose_headers=["Mcp-Session-Id", "Mcp-Protocol-Version"],
            )
        )
    if options.token:
        middleware.append(Middleware(BearerToken, token=options.token, owner="asyncmcp proxy", open_paths=("/health",)))
    routes = [
        Route("/health", health, methods=["GET"]),
        Route(address.path, endpoint=StreamableHTTPASGIApp(manager)),
    ]
    return Starlette(routes=routes, middleware=middleware)


def _security(address: ListenAddress, options: HttpFrontOptions) -> TransportSecuritySettings | None:
    if not address.loopback:
        return None  # reachable from elsewhere on purpose: Host checks would only get in the way
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *options.allowed_hosts]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*", *options.cors_origins]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


@asynccontextmanager
async def http_front(
    transport: Transport, *, options: HttpFrontOptions | None = None, call_timeout: float | None = 120.0
) -> AsyncIterator[str]:
    """Serve the HTTP front for the duration of the block; yields the URL clients connect to."""
    options = options or HttpFrontOptions()
    address = parse_listen(options.listen)
    if not address.loopback and not options.token:
        logger.warning(
            "the proxy listens on %s without a bearer token: anyone who can reach it may use it", address.host
        )
    backend = Backend(transport, open_timeout=call_timeout)
    manager = StreamableHTTPSessionManager(
        app=proxy_server(backend, call_timeout=call_timeout),
        security_settings=_security(address, options),
        max_request_body_size=options.max_body_bytes,
        session_idle_timeout=options.session_idle_seconds,
    )
    app = front_app(manager, address, options)
    async with backend.running(), manager.run(), serve_asgi(app, address.host, address.port) as bound:
        yield address.url(bound.port)


async def serve_http(
    transport: Transport,
    *,
    options: HttpFrontOptions | None = None,
    call_timeout: float | None = 120.0,
    shutdown: anyio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the HTTP front until `shutdown` is set (forever when None)."""
    intake = recorder.current().intake
    async with http_front(transport, options=options, call_timeout=call_timeout) as url:
        logger.info("HTTP front listening at %s for %s", url, transport.describe())
        intake.listening()
        if on_ready is not None:
            on_ready(url)
        await (shutdown or anyio.Event()).wait()
        intake.stopped()


async def serve_http_until_signalled(transport: Transport, **kwargs: Any) -> None:
    """`serve_http` that stops on SIGINT or SIGTERM."""
    await until_signalled(
        lambda shutdown: serve_http(transport, shutdown=shutdown, **kwargs), stopping="; stopping the proxy"
    )
