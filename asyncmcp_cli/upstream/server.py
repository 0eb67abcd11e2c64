"""The SDK server that queue clients talk to, answering from the upstream server.

`serve` runs an SDK `Server` on every queue client's connection; here that
server is a mirror of the upstream: it presents the upstream's name,
instructions and capabilities, and each spec request it receives is handed,
with its raw params, to the shared upstream connection (`relay.forward`).
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
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.shared.exceptions import MCPError
from mcp_types.methods import MONOLITH_RESULTS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import TypeAdapter, ValidationError

from asyncmcp_cli import codec
from asyncmcp_cli._groups import single_errors
from asyncmcp_cli.relay import Ctx, forward
from asyncmcp_cli.upstream.supervisor import Supervisor
from asyncmcp_cli.upstream.target import UpstreamTarget

logger = logging.getLogger(__name__)

FORWARDED_METHODS = (
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
)
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

    def __init__(self, supervisor: Supervisor, *, call_timeout: float | None) -> None:
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
        self._call_timeout = call_timeout
        # Served on streamable HTTP, the SDK would list the tools (a round trip upstream) before every
        # tools/call to check `Mcp-Param-*` headers; the upstream checks its own arguments.
        self.get_tool_input_schema = _no_schema
        for method in FORWARDED_METHODS:
            self.add_request_handler(method, types.RequestParams, self._forward)

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
        link = await self.supervisor.link()
        with self.supervisor.routes.serving(ctx):
            try:
                raw = await forward(
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
        return result_model(ctx.method, raw)


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


@asynccontextmanager
async def upstream_server(
    target: UpstreamTarget,
    *,
    call_timeout: float | None = None,
    ready_timeout: float = 30.0,
    init_timeout: float = 60.0,
) -> AsyncIterator[UpstreamMirror]:
    """Start (and keep restarting) the upstream; yield the SDK server to `serve` over any transport.

    Raises `ConfigurationError` / `TransportError` at once if the upstream cannot be started.
    """
    supervisor = Supervisor(target, ready_timeout=ready_timeout, init_timeout=init_timeout)
    with single_errors():
        async with anyio.create_task_group() as tg:
            await tg.start(supervisor.run)
            try:
                yield UpstreamMirror(supervisor, call_timeout=call_timeout)
            finally:
                tg.cancel_scope.cancel()
