"""Streamable HTTP + webhook transport: ordinary MCP over HTTP, and webhooks for the slow tools.

URL: ``http+webhook://HOST:PORT/PATH?webhook_tools=NAME,NAME&allow_webhook=PATTERN``

The server is the SDK's own streamable-HTTP session manager on
``http://HOST:PORT/PATH`` (default ``127.0.0.1:8000/mcp``), so any
streamable-HTTP MCP client can use it; both protocol eras work. In front of
it, a call to a *webhook tool* from a client that declared a webhook URL is
answered ``202 Accepted`` at once, run in the background, and its result
POSTed (signed, retried) to the webhook; see `router`. Webhook tools are named
by ``webhook_tools`` (``--webhook-tool``) or marked in their ``_meta`` with
`tools.webhook_tool`, and clients see the mark in ``tools/list``.

The client side is the SDK's streamable-HTTP client plus a small receiver for
the webhooks; a webhook result reaches the SDK as the answer to its request,
so ``call_tool`` simply returns it (see `client`).

Options: those of the ``webhook`` transport (``host``, ``port``, ``path``,
``server_url``, ``webhook_secret``, ``allow_webhook``, ``webhook_listen``,
``webhook_url``, ``dead_letter``, ``max_body_bytes``, ``delivery_attempts``,
``delivery_timeout``, ``retry_base_delay``, ``retry_max_delay``,
``idle_session_timeout``, ``bearer_token``; see `asyncmcp_cli.transports.webhook.transport`),
plus ``webhook_tools``: comma-separated names of tools that answer by webhook, and
(client side, from ``connect --header``) ``headers``: HTTP headers sent with every request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from anyio.streams.memory import MemoryObjectReceiveStream
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT
from mcp.shared.message import SessionMessage
from starlette.applications import Starlette
from starlette.routing import Route

from asyncmcp_cli.bearer import bearer_header
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.base import Connection
from asyncmcp_cli.transports.http_webhook.client import PendingResults, WebhookResultTransport
from asyncmcp_cli.transports.http_webhook.router import WebhookCallRouter
from asyncmcp_cli.transports.http_webhook.tools import WebhookTools
from asyncmcp_cli.transports.webhook.asgi import LOOPBACK_NAMES, guarded
from asyncmcp_cli.transports.webhook.serving import serve_asgi
from asyncmcp_cli.transports.webhook.transport import WebhookEndpoints, WebhookOptions, delivery_client
from asyncmcp_cli.transports.webhook.urlpolicy import UrlPolicy
from asyncmcp_cli.types import TransportStreams

BAD_INPUT_BUFFER = 16


@dataclass
class HttpWebhookOptions(WebhookOptions):
    webhook_tools: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    """Client side: HTTP headers sent with every request (``connect --header``), under asyncmcp's own."""


class HostedListener:
    """What `host_server` yields: no connections (the SDK's manager owns sessions), and a drain."""

    def __init__(self, router: WebhookCallRouter) -> None:
        self._router = router
        self._never, self._nothing = anyio.create_memory_object_stream[Connection](0)

    def __aiter__(self) -> AsyncIterator[Connection]:
        return self._nothing.__aiter__()

    async def drain(self, grace_seconds: float) -> int:
        return await self._router.drain(grace_seconds)

    def close(self) -> None:
        self._never.close()
        self._nothing.close()


class HttpWebhookTransport(WebhookEndpoints):
    """MCP over streamable HTTP, with webhook delivery for the tools chosen as slow."""

    scheme = "http+webhook"
    options_type = HttpWebhookOptions
    options: HttpWebhookOptions

    def describe(self) -> dict[str, Any]:
        tools = ",".join(self.options.webhook_tools) or "(marked in _meta)"
        return super().describe() | {"webhook_tools": tools}

    def listen(self) -> Any:
        raise ConfigurationError(
            "the http+webhook transport runs the SDK server itself: use asyncmcp_cli.server.serve(server, transport)"
        )

    # -- server -------------------------------------------------------------

    @asynccontextmanager
    async def host_server(self, server: Server[Any]) -> AsyncIterator[HostedListener]:
        o = self.options
        manager = StreamableHTTPSessionManager(
            server,
            security_settings=_security_for(o.host),
            max_request_body_size=o.max_body_bytes,
            session_idle_timeout=o.idle_session_timeout,
        )
        tools = WebhookTools(o.webhook_tools)
        async with tools.installed(server), delivery_client() as http, manager.run():
            sender = self.sender(http)
            async with anyio.create_task_group() as jobs:
                router = WebhookCallRouter(
                    manager.handle_request,
                    tools=tools,
                    policy=UrlPolicy(o.allow_webhook),
                    sender=sender,
                    jobs=jobs,
                    max_body=o.max_body_bytes,
                    loopback_only=o.host in LOOPBACK_NAMES,
                )
                app = guarded(
                    Starlette(routes=[Route(o.path, router)]),
                    token=o.token,
                    host=o.host,
                    owner="asyncmcp http+webhook server",
                )
                listener = HostedListener(router)
                try:
                    async with serve_asgi(app, o.host, o.port) as bound:
                        self.bound = bound
                        yield listener
                finally:
                    self.bound = None
                    listener.close()
                    jobs.cancel_scope.cancel()

    # -- client -------------------------------------------------------------

    @asynccontextmanager
    async def connect(self, *, client_id: str | None = None) -> AsyncIterator[TransportStreams]:
        o = self.options
        client_id = client_id or uuid.uuid4().hex
        bad_input, bad_input_reader = anyio.create_memory_object_stream[Exception](BAD_INPUT_BUFFER)
        pending = PendingResults(on_bad_input=bad_input.send)
        try:
            async with self.receiver(client_id, pending.accept) as reply_url:
                http = httpx2.AsyncClient(
                    transport=WebhookResultTransport(httpx2.AsyncHTTPTransport(), pending),
                    headers=dict(o.headers)
                    | {codec.CLIENT_ID: client_id, codec.REPLY_TO: reply_url}
                    | bearer_header(o.token),
                    timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
                    follow_redirects=False,
                )
                async with (
                    http,
                    streamable_http_client(self.server_url, http_client=http) as (sdk_read, sdk_write),
                    _merged(sdk_read, bad_input_reader) as read_stream,
                ):
                    yield read_stream, sdk_write
        finally:
            pending.close_all()
            bad_input.close()


@asynccontextmanager
async def _merged(
    sdk_read: Any, bad_input: MemoryObjectReceiveStream[Exception]
) -> AsyncIterator[MemoryObjectReceiveStream[SessionMessage | Exception]]:
    """One read stream: what the SDK's HTTP client reads, plus bad webhook bodies as Exceptions."""
    writer, reader = anyio.create_memory_object_stream[SessionMessage | Exception](0)

    async def forward(source: Any) -> None:
        try:
            async for item in source:
                await writer.send(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(forward, sdk_read)
            tg.start_soon(forward, bad_input)
            try:
                yield reader
            finally:
                tg.cancel_scope.cancel()
    finally:
        writer.close()
        reader.close()
        bad_input.close()


def _security_for(host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection when bound to loopback, as the SDK's own apps do."""
    if host not in LOOPBACK_NAMES:
        return None
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )
