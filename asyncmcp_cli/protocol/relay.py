"""Relay MCP traffic between an SDK server request and a JSON-RPC peer.

The proxy and the upstream bridge have the same shape: an SDK low-level
`Server` faces the clients (it speaks both protocol eras, owns their sessions
and their JSON-RPC ids), and an SDK `JSONRPCDispatcher` faces the server that
does the work (the *peer*: a backend reached over an asyncmcp transport, or an
existing MCP server on stdio or HTTP). Neither side is re-implemented here;
this module only moves one request across and routes what the peer sends back.

Ids never collide. Each forwarded request gets a fresh id minted by the peer
dispatcher, which matches the peer's answer to the waiting handler; the SDK
server then answers the client under the client's own id. Progress tokens are
remapped the same way (the dispatcher stamps its own token and calls us back;
we report progress against the client's token), and a client's cancellation
cancels the handler, whose dispatcher sends the peer a courtesy cancel for the
peer-side id. Many clients can therefore share one peer connection.

Messages the peer starts (sampling, elicitation, roots requests; log and
change notifications) carry no request id on the wire, so `FrontRoutes`
attributes them: to the one client request in flight, or to the client
connection itself when the peer serves exactly one connection (a proxy lane,
or an upstream session opened for one client). Anything it
cannot attribute is refused (requests) or logged (notifications), never sent
to a client it may not belong to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from typing import Any, Protocol

import mcp_types as types
from mcp.server.connection import Connection, allowed_log_levels
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.shared.dispatcher import CallOptions, DispatchContext
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import progress_token_from_params
from mcp.shared.message import ServerMessageMetadata
from pydantic import BaseModel, ValidationError

from asyncmcp_cli.transports.base import SESSION

logger = logging.getLogger(__name__)

Ctx = ServerRequestContext[Any, Any]

_RESULT_TYPES: dict[type[BaseModel], type[BaseModel]] = {
    types.CreateMessageRequest: types.CreateMessageResult,
    types.ElicitRequest: types.ElicitResult,
    types.ListRootsRequest: types.ListRootsResult,
    types.PingRequest: types.EmptyResult,
}
"""The result model of each server-to-client request (what `ServerSession.send_request` validates against)."""

_HANDLED_BY_DISPATCHER = frozenset({"notifications/progress", "notifications/cancelled"})


class Peer(Protocol):
    """The side that does the work: what `JSONRPCDispatcher` offers."""

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]: ...

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None: ...


class FrontSession(Protocol):
    """What per-client state needs of the client session a request arrived in.

    Both the SDK's `Connection` and our `transports.base.SessionScope` have it.
    Compared and hashed by identity: one object for the session's whole life.
    """

    @property
    def state(self) -> dict[str, Any]: ...

    @property
    def exit_stack(self) -> AsyncExitStack: ...

    @property
    def has_standalone_channel(self) -> bool: ...


def front_session(ctx: Ctx) -> FrontSession | None:
    """The client session a request arrived in: the one `serve` runs, else the SDK's own.

    `asyncmcp_cli.server.serve` (every queue and webhook transport) names the
    session it runs in `SESSION`, which needs nothing of the SDK's internals.
    Where the SDK runs the session itself (streamable HTTP hosting, the
    proxy's fronts) only its `Connection` knows the session: `front_connection`.
    """
    scope = SESSION.get()
    return scope if scope is not None else front_connection(ctx)


def front_connection(ctx: Ctx) -> Connection | None:
    """The SDK's client connection a request arrived on (for sessions the SDK runs itself).

    The SDK's `Context` exposes it as `.connection`; the `ServerRequestContext`
    that middleware and handlers receive in mcp 2.3 keeps it inside its
    `ServerSession` (``_connection``) until the SDK's context rework lands, and
    nothing public names the session otherwise: `ctx.request` is per message,
    and the SDK offers no hook when a session it runs begins or ends. Read it
    in this one place (pinned by a test), so an SDK change fails loudly here.
    """
    connection = getattr(ctx.session, "_connection", None)
    return connection if isinstance(connection, Connection) else None


async def forward(
    peer: Peer,
    ctx: Ctx,
    params: Mapping[str, Any] | None,
    *,
    call_timeout: float | None,
    peer_name: str,
) -> dict[str, Any]:
    """Send `ctx`'s request to the peer and return its raw result (or raise its error as `MCPError`)."""
    opts: CallOptions = {}
    if call_timeout is not None:
        opts["timeout"] = call_timeout
    if ctx.method == "initialize":
        opts["cancel_on_abandon"] = False  # the protocol forbids cancelling initialize
    if progress_token_from_params(ctx.params) is not None:
        opts["on_progress"] = ctx.session.report_progress
    try:
        return await peer.send_raw_request(ctx.method, params, opts)
    except MCPError as exc:
        if exc.error.code == types.REQUEST_TIMEOUT and exc.error.message.endswith("timed out"):
            raise MCPError(
                types.REQUEST_TIMEOUT, f"asyncmcp: no answer from {peer_name} within {call_timeout:g}s to {ctx.method}"
            ) from None
        if exc.error.code == types.CONNECTION_CLOSED and exc.error.message == "Connection closed":
            raise MCPError(
                types.CONNECTION_CLOSED, f"asyncmcp: the connection to {peer_name} closed before it answered"
            ) from None
        raise


class FrontRoutes:
    """The client requests a peer is serving right now, and where the peer's own messages go.

    `standalone=True` when the peer serves a single client connection (a proxy
    lane): messages that cannot be tied to one request then go to that
    connection's own channel. With many connections (a shared upstream) they
    go only to the single request in flight, if there is exactly one.
    `session` names that one connection up front, so what the peer sends
    before the first request is served (a roots query right after the
    handshake) already has somewhere to go.
    """

    def __init__(self, *, peer_name: str, standalone: bool, session: ServerSession | None = None) -> None:
        self._peer_name = peer_name
        self._standalone = standalone
        self._serving: dict[int, Ctx] = {}
        self._connection_session: ServerSession | None = session if standalone else None

    @property
    def busy(self) -> int:
        return len(self._serving)

    @contextmanager
    def serving(self, ctx: Ctx) -> Iterator[None]:
        """Mark `ctx` as in flight while its request is with the peer."""
        key = id(ctx)
        self._serving[key] = ctx
        if self._standalone:
            self._connection_session = ctx.session
        try:
            yield
        finally:
            self._serving.pop(key, None)

    def _target(self) -> tuple[ServerSession, Ctx | None] | None:
        if len(self._serving) == 1:
            (ctx,) = self._serving.values()
            return ctx.session, ctx
        if self._standalone and self._connection_session is not None:
            return self._connection_session, None
        return None

    async def on_request(
        self, dctx: DispatchContext[Any], method: str, params: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The peer asks the client something (sampling, elicitation, roots): pass it on."""
        if method == "ping":
            return {}
        target = self._target()
        if target is None:
            raise MCPError(
                types.INVALID_REQUEST,
                f"asyncmcp: cannot tell which client {method} is for ({self.busy} requests in flight)",
            )
        session, ctx = target
        try:
            request = types.server_request_adapter.validate_python(
                {"method": method, "params": dict(params or {})}, by_name=False
            )
        except ValidationError:
            raise MCPError(types.METHOD_NOT_FOUND, f"asyncmcp: cannot relay {method} to the client") from None
        metadata = ServerMessageMetadata(related_request_id=ctx.request_id) if ctx is not None else None
        try:
            result = await session.send_request(request, _RESULT_TYPES[type(request)], metadata=metadata)
        except NoBackChannelError:
            raise MCPError(
                types.METHOD_NOT_FOUND, f"asyncmcp: the client cannot receive {method} in its protocol era"
            ) from None
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)

    async def on_notify(self, dctx: DispatchContext[Any], method: str, params: Mapping[str, Any] | None) -> None:
        """The peer notifies (log message, list changed, ...): pass it on if we know to whom."""
        if method in _HANDLED_BY_DISPATCHER:
            return
        target = self._target()
        if target is None:
            if method == "notifications/message":
                logger.info("%s log: %s", self._peer_name, dict(params or {}).get("data"))
            else:
                logger.debug("%s sent %s with no client to relay it to", self._peer_name, method)
            return
        session, ctx = target
        if method == "notifications/message" and ctx is not None and not _log_wanted(ctx, params):
            return
        try:
            notification = types.server_notification_adapter.validate_python(
                {"method": method, "params": dict(params) if params is not None else None}, by_name=False
            )
        except ValidationError:
            logger.debug("not relaying %s from %s: not a server notification", method, self._peer_name)
            return
        await session.send_notification(notification, related_request_id=ctx.request_id if ctx else None)


def _log_wanted(ctx: Ctx, params: Mapping[str, Any] | None) -> bool:
    """The 2026-07-28 per-request log opt-in (handshake-era clients get every level)."""
    meta = (ctx.params or {}).get("_meta")
    level = (params or {}).get("level")
    return level in allowed_log_levels(ctx.protocol_version, meta if isinstance(meta, Mapping) else None)
