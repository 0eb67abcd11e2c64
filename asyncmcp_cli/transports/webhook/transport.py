"""Webhook transport: requests by HTTP POST, each answer POSTed back, signed, to the client's webhook.

URL: ``webhook://HOST:PORT/PATH?webhook_listen=HOST:PORT&allow_webhook=PATTERN``

The server listens on ``http://HOST:PORT/PATH`` (default ``127.0.0.1:8000/mcp``)
and answers every POST with ``202 Accepted`` at once; the JSON-RPC response
follows later as a Standard Webhooks signed POST to the URL the client
declared (``asyncmcp-reply-to`` header or ``io.asyncmcp/replyTo`` in
``params._meta``). The client runs its own small receiver for those.

Options (URL query keys, `WebhookOptions` fields, ``-o key=value``, CLI flags):

- ``host`` / ``port`` / ``path``: where the server listens, and where a client
  sends (default ``127.0.0.1``, ``8000``, ``/mcp``); ``server_url`` overrides
  the client's target as a whole URL (e.g. ``https://`` behind a proxy);
- ``webhook_secret``: ``whsec_...`` signing secrets, comma-separated; the
  server signs with all, a client accepts any (rotation). Default: the
  ``ASYNCMCP_WEBHOOK_SECRET`` environment variable. Required on both sides;
- ``allow_webhook``: comma-separated URL patterns the server may POST to
  (default ``https://*``: public HTTPS hosts only). Private, loopback and
  link-local hosts must be named literally, e.g. ``http://127.0.0.1:*``;
- ``webhook_listen``: ``HOST:PORT`` of the client's receiver (default
  ``127.0.0.1:0``, an ephemeral port); ``webhook_url``: the URL the server
  should POST to when it differs from the listen address (a tunnel, a proxy;
  the receiver then serves that URL's path);
- ``dead_letter``: file where undeliverable responses are kept (default
  ``~/.local/state/asyncmcp/webhook-dead-letter.jsonl``);
- ``max_body_bytes`` (default 4 MiB): largest request or webhook body;
- ``delivery_attempts`` (8), ``delivery_timeout`` (10 s), ``retry_base_delay``
  (0.5 s), ``retry_max_delay`` (60 s): webhook delivery retries;
- ``idle_session_timeout`` (s, default 3600): idle client sessions are closed;
- ``bearer_token``: when set, the server answers only requests that carry
  ``Authorization: Bearer <token>`` (401 otherwise) and clients send it.
  Default: the ``ASYNCMCP_WEBHOOK_TOKEN`` environment variable; without one the
  server is open to whoever can reach it (a warning says so off loopback).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2

from asyncmcp_cli.bearer import bearer_header
from asyncmcp_cli.options import options_from, query_options
from asyncmcp_cli.transports.webhook.asgi import DEFAULT_MAX_BODY_BYTES
from asyncmcp_cli.transports.webhook.client import WebhookClient
from asyncmcp_cli.transports.webhook.deadletter import DeadLetterFile, default_path
from asyncmcp_cli.transports.webhook.delivery import RetryPolicy, WebhookSender
from asyncmcp_cli.transports.webhook.receiver import DEFAULT_PATH as RECEIVER_PATH
from asyncmcp_cli.transports.webhook.receiver import WebhookHandler, receiver_app
from asyncmcp_cli.transports.webhook.server import WebhookListener, webhook_listener
from asyncmcp_cli.transports.webhook.serving import Bound, parse_host_port, serve_asgi
from asyncmcp_cli.transports.webhook.shared_receiver import SharedReceiver
from asyncmcp_cli.transports.webhook.signing import Signer, Verifier
from asyncmcp_cli.transports.webhook.urlpolicy import DEFAULT_ALLOW, UrlPolicy
from asyncmcp_cli.types import TransportStreams

SECRET_ENV = "ASYNCMCP_WEBHOOK_SECRET"
TOKEN_ENV = "ASYNCMCP_WEBHOOK_TOKEN"

EndpointsT = TypeVar("EndpointsT", bound="WebhookEndpoints")


@dataclass
class WebhookOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    path: str = "/mcp"
    server_url: str | None = None
    webhook_secret: tuple[str, ...] = ()
    allow_webhook: tuple[str, ...] = DEFAULT_ALLOW
    webhook_listen: str = "127.0.0.1:0"
    webhook_url: str | None = None
    dead_letter: str = ""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    delivery_attempts: int = 8
    delivery_timeout: float = 10.0
    retry_base_delay: float = 0.5
    retry_max_delay: float = 60.0
    idle_session_timeout: float = 3600.0
    bearer_token: str | None = None

    @property
    def token(self) -> str | None:
        """The configured bearer token, else ``ASYNCMCP_WEBHOOK_TOKEN``; None: the server is open."""
        return self.bearer_token or os.environ.get(TOKEN_ENV) or None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The configured secrets, else ``ASYNCMCP_WEBHOOK_SECRET`` (comma- or space-separated)."""
        return self.webhook_secret or tuple(os.environ.get(SECRET_ENV, "").replace(",", " ").split())

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=max(1, self.delivery_attempts),
            base_delay=self.retry_base_delay,
            max_delay=self.retry_max_delay,
            timeout=self.delivery_timeout,
        )

    @property
    def dead_letter_path(self) -> str:
        return self.dead_letter or default_path()


def options_from_url(url: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """``scheme://HOST:PORT/PATH?k=v``: host, port and path from the URL, the rest from its query."""
    values = query_options(url, target="_where", overrides={})
    values.pop("_where", None)
    parts = urlsplit(url)
    if parts.hostname:
        values["host"] = parts.hostname
    if parts.port is not None:
        values["port"] = parts.port
    if parts.path not in ("", "/"):
        values["path"] = parts.path
    values.update({k: v for k, v in overrides.items() if v is not None})
    return values


def delivery_client() -> httpx2.AsyncClient:
    """The HTTP client for webhook deliveries: no redirects, no proxies from the environment.

    A proxy would put a third party between the URL policy's check and the
    receiver, so deliveries always connect directly.
    """
    return httpx2.AsyncClient(follow_redirects=False, trust_env=False)


class WebhookEndpoints:
    """What both webhook transports share: their options, where the server listens,
    the signed sender a server answers with, and the receiver a client listens on."""

    scheme = "webhook"
    options_type: type[WebhookOptions] = WebhookOptions

    def __init__(self, options: WebhookOptions | None = None, **overrides: Any) -> None:
        self.options = options_from(self.options_type, overrides, base=options)
        self.bound: Bound | None = None
        """Where this transport's server is listening, once started (port 0 → the real port)."""
        self.receivers: dict[str, str] = {}
        """client id -> webhook URL, for the clients this transport has connected and not yet closed."""
        self.listening_receivers = 0
        """How many webhook receivers this transport's clients have listening right now."""
        self._shared: tuple[SharedReceiver, str] | None = None

    @classmethod
    def from_url(cls: type[EndpointsT], url: str, **overrides: Any) -> EndpointsT:
        return cls(**options_from_url(url, overrides))

    @property
    def server_url(self) -> str:
        o = self.options
        if o.server_url:
            return o.server_url
        return (self.bound or Bound(o.host, o.port)).url(o.path)

    def describe(self) -> dict[str, Any]:
        o = self.options
        return {
            "transport": self.scheme,
            "url": self.server_url,
            "allow_webhook": ",".join(o.allow_webhook),
            "dead_letter": o.dead_letter_path,
        }

    def sender(self, http: httpx2.AsyncClient) -> WebhookSender:
        """Signed, retried webhook deliveries as the options say."""
        o = self.options
        return WebhookSender(
            http,
            signer=Signer(o.secrets),
            policy=UrlPolicy(o.allow_webhook),
            retry=o.retry,
            dead_letter=DeadLetterFile(o.dead_letter_path),
            max_body_bytes=o.max_body_bytes,
        )

    @asynccontextmanager
    async def clients(self) -> AsyncIterator[None]:
        """While the block runs, the clients this transport connects share one webhook receiver.

        A process with many clients (a proxy) listens once, even on a fixed
        ``webhook_listen`` address; the receiver stops when the block ends.
        See `shared_receiver`. Nested blocks use the outer one's receiver.
        """
        if self._shared is not None:
            yield
            return
        shared = SharedReceiver()
        async with self._serve_receiver(shared.accept) as reply_url:
            self._shared = (shared, reply_url)
            try:
                yield
            finally:
                self._shared = None

    @asynccontextmanager
    async def receiver(self, client_id: str, accept: WebhookHandler) -> AsyncIterator[str]:
        """A client's webhook receiver, handing verified bodies to `accept`; yields its public URL.

        Inside `clients()` the client attaches to the shared receiver; otherwise it runs one of its own.
        """
        if self._shared is not None:
            shared, reply_url = self._shared
            with shared.attached(client_id, accept):
                self.receivers[client_id] = reply_url
                try:
                    yield reply_url
                finally:
                    self.receivers.pop(client_id, None)
            return
        async with self._serve_receiver(accept) as reply_url:
            self.receivers[client_id] = reply_url
            try:
                yield reply_url
            finally:
                self.receivers.pop(client_id, None)

    @asynccontextmanager
    async def _serve_receiver(self, accept: WebhookHandler) -> AsyncIterator[str]:
        o = self.options
        listen_host, listen_port = parse_host_port(o.webhook_listen)
        path = (urlsplit(o.webhook_url).path if o.webhook_url else "") or RECEIVER_PATH
        app = receiver_app(Verifier(o.secrets), accept, path=path, max_body_bytes=o.max_body_bytes)
        async with serve_asgi(app, listen_host, listen_port, graceful_seconds=1) as bound:
            self.listening_receivers += 1
            try:
                yield o.webhook_url or bound.url(RECEIVER_PATH)
            finally:
                self.listening_receivers -= 1


class WebhookTransport(WebhookEndpoints):
    """MCP over HTTP POST requests and signed webhook responses."""

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[WebhookListener]:
        o = self.options
        async with (
            delivery_client() as http,
            webhook_listener(
                self.sender(http),
                UrlPolicy(o.allow_webhook),
                host=o.host,
                port=o.port,
                path=o.path,
                max_body=o.max_body_bytes,
                idle_timeout=o.idle_session_timeout,
                token=o.token,
            ) as listener,
        ):
            self.bound = listener.bound
            try:
                yield listener
            finally:
                self.bound = None

    @asynccontextmanager
    async def connect(self, *, client_id: str | None = None) -> AsyncIterator[TransportStreams]:
        client_id = client_id or uuid.uuid4().hex
        async with httpx2.AsyncClient(follow_redirects=False, headers=bearer_header(self.options.token)) as http:
            client = WebhookClient(http, server_url=self.server_url, client_id=client_id)
            async with self.receiver(client_id, client.accept) as reply_url, client.running(reply_url) as streams:
                yield streams
