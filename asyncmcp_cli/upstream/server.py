"""The SDK server that queue clients talk to, answering from the upstream server.

`serve` runs an SDK `Server` on every queue client's connection; here that
server is a mirror of the upstream: it presents the upstream's name,
instructions and capabilities, and each spec request it receives is handed,
with its raw params, to an upstream connection (`relay.forward`): the client's
own when it can receive server requests (`sessions`), else the shared one.
Because the SDK serves the queue side, both protocol eras work whatever the
upstream speaks:

- a handshake-era client's ``initialize`` is answered here from the
  upstream's own initialize result (the upstream was initialized once, by
  us), and its ``notifications/initialized`` stays here;
- a stateless-era client's requests carry the 2026-07-28 envelope in
  ``_meta``; it is taken off before the request goes upstream (a handshake
  server does not know it), ``server/discover`` is answered here, and the
  SDK shapes the upstream's results for the client's era (``resultType``,
  the server-info stamp, the per-version result surface).

Unknown (non-spec) methods are not forwarded: they get METHOD_NOT_FOUND.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.shared.exceptions import MCPError
from mcp_types.methods import MONOLITH_RESULTS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import TypeAdapter, ValidationError

from asyncmcp_cli._groups import single_errors
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.protocol.methods import SERVER_FEATURE_REQUESTS
from asyncmcp_cli.protocol.relay import Ctx, FrontRoutes, forward, front_session
from asyncmcp_cli.upstream.link import NO_CAPABILITIES, SHARED_CAPABILITIES, Link
from asyncmcp_cli.upstream.sessions import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_SESSIONS,
    ClientLinks,
    relayable_capabilities,
)
from asyncmcp_cli.upstream.supervisor import Supervisor
from asyncmcp_cli.upstream.target import UpstreamTarget

logger = logging.getLogger(__name__)

FORWARDED_METHODS = SERVER_FEATURE_REQUESTS
"""Spec requests answered by the upstream. ``ping`` is answered here."""

_ENVELOPE_KEYS = frozenset(
    {
        types.PROTOCOL_VERSION_META_KEY,
        types.CLIENT_INFO_META_KEY,
        types.CLIENT_CAPABILITIES_META_KEY,
        types.LOG_LEVEL_META_KEY,
        codec.META_CLIENT_ID,
        codec.META_REPLY_TO,
    }
)
"""`_meta` keys that describe the queue client's own connection, not the request: never sent upstream."""

_SESSION_LOST = ("Session not found", "Session terminated")
"""How a streamable HTTP upstream says it no longer knows our session (it restarted)."""


class UpstreamMirror(Server[Any]):
    """An SDK server with the upstream's identity whose spec requests are answered upstream."""

    def __init__(
        self, supervisor: Supervisor, *, call_timeout: float | None, client_links: ClientLinks | None = None
    ) -> None:
        initialized = supervisor.initialized
        assert initialized is not None, "build the mirror once the upstream is up"
        info = initialized.server_info
        super().__init__(
            info.name,
            version=info.version,
            title=info.title,
            description=info.description,
            instructions=initialized.instructions,
            website_url=info.website_url,
            icons=info.icons,
        )
        self.supervisor = supervisor
        self.client_links = client_links
        """Links of their own for clients that can receive server requests; None: everyone shares one."""
        self._call_timeout = call_timeout
        # Served on streamable HTTP, the SDK would list the tools (a round trip upstream) before every
        # tools/call to check `Mcp-Param-*` headers; the upstream checks its own arguments.
        self.get_tool_input_schema = _no_schema
        for method in FORWARDED_METHODS:
            self.add_request_handler(method, types.RequestParams, self._forward)
        self.add_notification_handler("notifications/roots/list_changed", types.NotificationParams, self._roots_changed)

    def get_capabilities(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
        *,
        protocol_version: str | None = None,
    ) -> types.ServerCapabilities:
        """The upstream's capabilities, less what cannot reach a stateless-era client through us."""
        initialized = self.supervisor.initialized
        capabilities = initialized.capabilities if initialized else types.ServerCapabilities()
        if protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return capabilities
        # At 2026-07-28 change notifications travel on subscriptions/listen streams, which we do not relay.
        update: dict[str, Any] = {}
        if capabilities.tools is not None:
            update["tools"] = capabilities.tools.model_copy(update={"list_changed": None})
        if capabilities.prompts is not None:
            update["prompts"] = capabilities.prompts.model_copy(update={"list_changed": None})
        if capabilities.resources is not None:
            update["resources"] = capabilities.resources.model_copy(update={"list_changed": None, "subscribe": None})
        return capabilities.model_copy(update=update)

    async def _forward(self, ctx: Ctx, _params: types.RequestParams) -> types.Result:
        own = relayable_capabilities(ctx) if self.client_links is not None else None
        if own is None or self.client_links is None:
            link = await self.supervisor.link()
            raw = await self._send(link, self.supervisor.routes, ctx)
        else:
            async with self.client_links.using(ctx, *own) as (link, routes):
                raw = await self._send(link, routes, ctx)
        return result_model(ctx.method, raw)

    async def _send(self, link: Link, routes: FrontRoutes, ctx: Ctx) -> dict[str, Any]:
        with routes.serving(ctx):
            try:
                return await forward(
                    link.dispatcher,
                    ctx,
                    upstream_params(ctx.params),
                    call_timeout=self._call_timeout,
                    peer_name="the upstream server",
                )
            except MCPError as exc:
                if exc.error.message in _SESSION_LOST:
                    logger.warning("the upstream server forgot our session; reconnecting")
                    link.end()
                raise

    async def _roots_changed(self, ctx: Ctx, _params: types.NotificationParams) -> None:
        """The client's roots changed: tell its own upstream session (the shared one never asks for roots)."""
        link = self.client_links.live_link(front_session(ctx)) if self.client_links is not None else None
        if link is not None:
            await link.dispatcher.notify("notifications/roots/list_changed", None)


@functools.cache
def _result_adapter(method: str) -> TypeAdapter[Any]:
    return TypeAdapter(MONOLITH_RESULTS[method])


def result_model(method: str, raw: dict[str, Any]) -> types.Result:
    """The upstream's raw result as the SDK's model, which the SDK then shapes for the client's era.

    The model supplies what a 2026-07-28 client needs and a handshake server
    never sends (``resultType``, ``ttlMs``/``cacheScope`` on cacheable results).
    """
    try:
        return _result_adapter(method).validate_python(raw, by_name=False)
    except ValidationError:
        logger.warning("the upstream server's result for %s is not valid MCP", method)
        raise MCPError(
            types.INTERNAL_ERROR, f"asyncmcp: the upstream server returned an invalid {method} result"
        ) from None


def _no_schema(name: str) -> None:
    return None


def upstream_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The request's params as the upstream should see them: without the client's connection envelope."""
    if params is None:
        return None
    out = dict(params)
    meta = out.get("_meta")
    if isinstance(meta, Mapping):
        kept = {key: value for key, value in meta.items() if key not in _ENVELOPE_KEYS}
        if kept:
            out["_meta"] = kept
        else:
            del out["_meta"]
    return out


SessionMode = Literal["shared", "per-client"]


@asynccontextmanager
async def upstream_server(
    target: UpstreamTarget,
    *,
    sessions: SessionMode = "per-client",
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    call_timeout: float | None = None,
    ready_timeout: float = 30.0,
    init_timeout: float = 60.0,
) -> AsyncIterator[UpstreamMirror]:
    """Start (and keep restarting) the upstream; yield the SDK server to `serve` over any transport.

    ``sessions="per-client"`` opens a link of its own for each client that can
    receive server requests (`asyncmcp_cli.upstream.sessions`), at most
    `max_sessions` at once; ``"shared"`` sends every client down one link.

    Raises `ConfigurationError` / `TransportError` at once if the upstream cannot be started.
    """
    per_client = sessions == "per-client"
    supervisor = Supervisor(
        target,
        capabilities=NO_CAPABILITIES if per_client else SHARED_CAPABILITIES,
        ready_timeout=ready_timeout,
        init_timeout=init_timeout,
    )
    client_links = (
        ClientLinks(target, max_sessions=max_sessions, idle_timeout=idle_timeout, init_timeout=init_timeout)
        if per_client
        else None
    )
    with single_errors():
        async with anyio.create_task_group() as tg:
            await tg.start(supervisor.run)
            if client_links is not None:
                await tg.start(client_links.run)
            try:
                yield UpstreamMirror(supervisor, call_timeout=call_timeout, client_links=client_links)
            finally:
                tg.cancel_scope.cancel()
