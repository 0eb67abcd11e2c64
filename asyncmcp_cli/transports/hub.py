"""Server-side demultiplexing shared by every asynchronous server transport.

Channel messages from many clients arrive on one queue (or endpoint). The hub
gives each client id its own SDK session (a `Connection`), feeds the client's
messages into it, and routes what the session writes back to the reply address
that client declared.

Delivery: a request's channel message is settled (`ack`, e.g. deleted) only
after its response has been sent. A redelivered copy of a request that is still
running is not started again: its ack joins the running one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import anyio.abc
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import ServerMessageMetadata, SessionMessage

from asyncmcp_cli import codec
from asyncmcp_cli.errors import PayloadTooLargeError, TransportError
from asyncmcp_cli.results import ResultStore
from asyncmcp_cli.transports.base import Connection
from asyncmcp_cli.types import Ack

logger = logging.getLogger(__name__)


class ReplySender(Protocol):
    """send(reply_to, client_id, message, reply_ttl=...): put one message on the client's reply channel.

    `reply_ttl` is how long the client asked its answers to wait for it (None:
    it did not say); channels whose messages wait on a queue stamp an expiry
    from it (`asyncmcp_cli.reply_expiry`), the others ignore it.
    """

    def __call__(
        self, reply_to: str, client_id: str, message: types.JSONRPCMessage, *, reply_ttl: float | None = None
    ) -> Awaitable[None]: ...


_SESSION_BUFFER = 16
_SEND_RETRY_SECONDS = 60.0
_SETTLE_SECONDS = 15.0


@dataclass
class Inbound:
    """One message taken from the channel, with what is needed to settle it."""

    routing: codec.Routing
    message: types.JSONRPCMessage | Exception
    ack: Ack
    release: Ack
    """Give the channel message back for redelivery (used when shutting down)."""
    raw_body: str | bytes = b""
    delivery_id: str | None = None
    """The channel's id for this message, the same on every redelivery (SQS MessageId)."""
    receive_count: int = 1
    reject: Ack | None = None
    """Settle a poison message: move it to a dead-letter queue (default: `ack`)."""

    async def dead_letter(self) -> None:
        await (self.reject or self.ack)()


@dataclass(eq=False)
class _Client:
    client_id: str
    reply_to: str
    to_session: MemoryObjectSendStream[SessionMessage | Exception]
    reply_ttl: float | None = None
    """What the client last declared; used for messages that answer no particular request."""
    last_active: float = field(default_factory=time.monotonic)
    in_flight: dict[types.RequestId, list[Inbound]] = field(default_factory=dict)


class SessionHub:
    """One SDK session per client id; replies routed back; acks after replies.

    `admits(reply_to)` is the server's allow-list. Use as an async context
    manager; iterate it for new connections.
    """

    def __init__(
        self,
        send: ReplySender,
        *,
        admits: Callable[[str], bool],
        idle_timeout: float = 3600.0,
        results: ResultStore | None = None,
        max_receives: int | None = None,
    ) -> None:
        self._send = send
        self._admits = admits
        self._idle_timeout = idle_timeout
        self._results = results
        self._max_receives = max_receives
        self._clients: dict[str, _Client] = {}
        self._new_connections, self._connections = anyio.create_memory_object_stream[Connection](0)
        self._tg: anyio.abc.TaskGroup | None = None
        self._idle = anyio.Event()
        self._idle.set()
        self._closed = False

    # -- lifecycle ----------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[SessionHub]:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._reap_idle_sessions)
            try:
                yield self
            finally:
                await self._release_unfinished()
                for client in self._clients.values():
                    client.to_session.close()
                self._new_connections.close()
                self._connections.close()
                tg.cancel_scope.cancel()

    def __aiter__(self) -> AsyncIterator[Connection]:
        return self._connections.__aiter__()

    @property
    def in_flight(self) -> int:
        return sum(len(client.in_flight) for client in self._clients.values())

    async def drain(self, grace_seconds: float) -> int:
        """Wait up to `grace_seconds` for running requests; give back the rest.

        Returns how many were unfinished. Their channel messages are released
        for redelivery at once, and whatever their sessions still write (such
        as a cancellation error) is not sent: another server will answer them.
        """
        with anyio.move_on_after(grace_seconds):
            while self.in_flight:
                self._idle = anyio.Event()
                await self._idle.wait()
        unfinished = self.in_flight
        self._closed = True
        await self._release_unfinished()
        return unfinished

    # -- inbound ------------------------------------------------------------

    async def deliver(self, inbound: Inbound) -> None:
        """Route one channel message into its client's session (or answer/settle it here)."""
        routing = inbound.routing
        if not routing.client_id or not routing.reply_to:
            logger.warning(
                "dropping message without %s: %s",
                "client id" if not routing.client_id else "reply address",
                _preview(inbound),
            )
            self._in_background(_settle, inbound.dead_letter)
            return
        if not self._admits(routing.reply_to):
            logger.warning(
                "refusing reply address %r from client %s: not admitted by the allow-list; nothing sent",
                routing.reply_to,
                routing.client_id,
            )
            self._in_background(_settle, inbound.dead_letter)
            return
        message = inbound.message
        if isinstance(message, Exception):
            logger.warning("bad message from client %s: %s", routing.client_id, message)
            rid = codec.sniff_request_id(inbound.raw_body)
            error = codec.error_reply(rid, types.PARSE_ERROR, f"asyncmcp: {message}")
            self._in_background(self._answer_and_dead_letter, inbound, routing, error)
            return

        if codec.is_request(message):
            await self._deliver_request(inbound, message, routing)
            return
        client = await self._client_for(routing)
        client.last_active = time.monotonic()
        if await self._into_session(client, inbound, message):
            self._in_background(_settle, inbound.ack)

    def _in_background(self, action: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Settle off the intake path, so a flood of poison messages does not slow the poller.

        The channel message stays unsettled (and counted against max_in_flight) until it runs.
        """
        assert self._tg is not None, "SessionHub used outside running()"
        self._tg.start_soon(action, *args)

    async def _answer_and_dead_letter(
        self, inbound: Inbound, routing: codec.Routing, error: types.JSONRPCMessage
    ) -> None:
        assert routing.reply_to is not None and routing.client_id is not None
        await self._send_with_retry(routing.reply_to, routing.client_id, error, routing.reply_ttl)
        await _settle(inbound.dead_letter)

    async def _deliver_request(self, inbound: Inbound, message: types.JSONRPCMessage, routing: codec.Routing) -> None:
        assert routing.client_id is not None and routing.reply_to is not None
        if await self._answer_from_cache(inbound, routing):
            return
        client = await self._client_for(routing)
        client.last_active = time.monotonic()
        rid = codec.request_id_of(message)
        assert rid is not None
        if rid in client.in_flight:
            logger.info("request %s of client %s is already running; not started twice", rid, client.client_id)
            client.in_flight[rid].append(inbound)
            return
        if self._keeps_failing(inbound):
            logger.error(
                "request %s of client %s was received %d times without finishing; moving it to the dead letters",
                rid,
                client.client_id,
                inbound.receive_count,
            )
            text = f"asyncmcp: request failed {inbound.receive_count} times on the server; not retried again"
            await self._send_with_retry(
                client.reply_to, client.client_id, codec.error_reply(rid, types.INTERNAL_ERROR, text), routing.reply_ttl
            )
            self._in_background(_settle, inbound.dead_letter)
            return
        client.in_flight[rid] = [inbound]
        self._idle = anyio.Event() if self._idle.is_set() else self._idle

        async def settle_unanswered() -> None:
            """The SDK ended the request without a response (the client cancelled it): settle it,
            so that it is neither kept alive by the heartbeat nor run again elsewhere."""
            if self._closed:  # shutting down: drain() has already given it back for redelivery
                return
            for pending in client.in_flight.pop(rid, []):
                await _settle(pending.ack)
            if not self.in_flight:
                self._idle.set()

        metadata = ServerMessageMetadata(on_request_unanswered=settle_unanswered)
        if not await self._into_session(client, inbound, message, metadata):
            client.in_flight.pop(rid, None)

    async def _into_session(
        self,
        client: _Client,
        inbound: Inbound,
        message: types.JSONRPCMessage,
        metadata: ServerMessageMetadata | None = None,
    ) -> bool:
        """Hand a message to the client's SDK session; if the session has ended, give the message back."""
        try:
            await client.to_session.send(SessionMessage(message, metadata))
            return True
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            logger.warning("session of client %s has ended; leaving its message for redelivery", client.client_id)
            await _settle(inbound.release)
            return False

    def _keeps_failing(self, inbound: Inbound) -> bool:
        return self._max_receives is not None and inbound.receive_count >= self._max_receives

    async def _answer_from_cache(self, inbound: Inbound, routing: codec.Routing) -> bool:
        """Answer a redelivered request whose response was already sent; True if it was."""
        if self._results is None or inbound.delivery_id is None:
            return False
        try:
            cached = await self._results.get(inbound.delivery_id)
        except Exception as exc:  # an unreachable cache must not stop the request; it runs as if new
            logger.warning("could not look up a stored response: %s", exc)
            return False
        if cached is None:
            return False
        logger.info(
            "request %s of client %s was already answered; resending the stored response",
            codec.request_id_of(inbound.message),
            routing.client_id,
        )  # type: ignore[arg-type]
        assert routing.reply_to is not None and routing.client_id is not None
        sent = await self._send_with_retry(routing.reply_to, routing.client_id, codec.decode(cached), routing.reply_ttl)
        self._in_background(_settle, inbound.ack if sent else inbound.release)
        return True

    async def _client_for(self, routing: codec.Routing) -> _Client:
        client_id, reply_to = routing.client_id, routing.reply_to
        assert client_id is not None and reply_to is not None
        client = self._clients.get(client_id)
        if client is not None:
            client.reply_to = reply_to
            client.reply_ttl = routing.reply_ttl
            return client
        to_session, session_reads = anyio.create_memory_object_stream[SessionMessage | Exception](_SESSION_BUFFER)
        session_writes, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        client = _Client(client_id, reply_to, to_session, routing.reply_ttl)
        self._clients[client_id] = client
        assert self._tg is not None, "SessionHub used outside running()"
        self._tg.start_soon(self._route_replies, client, from_session)
        logger.debug("new session for client %s (replies to %s)", client_id, reply_to)
        await self._new_connections.send(Connection(client_id, session_reads, session_writes))
        return client

    # -- outbound -----------------------------------------------------------

    async def _route_replies(self, client: _Client, from_session: MemoryObjectReceiveStream[SessionMessage]) -> None:
        assert self._tg is not None
        async with from_session:
            async for session_message in from_session:
                self._tg.start_soon(self._reply, client, session_message.message)
        client.to_session.close()
        if self._clients.get(client.client_id) is client:
            del self._clients[client.client_id]

    async def _reply(self, client: _Client, message: types.JSONRPCMessage) -> None:
        if self._closed:
            logger.debug(
                "shutting down: not sending %s to client %s", codec.method_of(message) or "reply", client.client_id
            )
            return
        if not codec.is_reply(message):
            await self._send_with_retry(client.reply_to, client.client_id, message, client.reply_ttl)
            return
        inbounds = client.in_flight.get(codec.request_id_of(message), [])  # type: ignore[arg-type]
        await self._remember(inbounds, message)
        reply_ttl = inbounds[0].routing.reply_ttl if inbounds else client.reply_ttl
        sent = await self._send_with_retry(client.reply_to, client.client_id, message, reply_ttl)
        client.last_active = time.monotonic()
        inbounds = client.in_flight.pop(codec.request_id_of(message), [])  # type: ignore[arg-type]
        for inbound in inbounds:
            await _settle(inbound.ack if sent else inbound.release)
        if not self.in_flight:
            self._idle.set()

    async def _remember(self, inbounds: list[Inbound], reply: types.JSONRPCMessage) -> None:
        """Store the response before it is sent, so a redelivery after a crash is answered, not re-run."""
        if self._results is None:
            return
        body = codec.encode(reply)
        for inbound in inbounds:
            if inbound.delivery_id is not None:
                try:
                    await self._results.put(inbound.delivery_id, body)
                except Exception as exc:  # a cache failure must not stop the response
                    logger.warning("could not store the response for redeliveries: %s", exc)

    async def _send_with_retry(
        self, reply_to: str, client_id: str, message: types.JSONRPCMessage, reply_ttl: float | None
    ) -> bool:
        """Send, retrying transient channel errors with backoff; True once sent."""
        delay = 0.2
        deadline = time.monotonic() + _SEND_RETRY_SECONDS
        while True:
            try:
                await self._send(reply_to, client_id, message, reply_ttl=reply_ttl)
                return True
            except PayloadTooLargeError as exc:
                if not codec.is_reply(message):
                    logger.error("dropping oversize message to client %s: %s", client_id, exc)
                    return False
                logger.warning("response to client %s is too large: %s", client_id, exc)
                message = codec.error_reply(codec.request_id_of(message), types.INTERNAL_ERROR, f"asyncmcp: {exc}")
            except TransportError as exc:
                if time.monotonic() + delay > deadline:
                    logger.error("giving up sending to %s for client %s: %s", reply_to, client_id, exc)
                    return False
                logger.warning("send to %s failed (%s); retrying in %.1fs", reply_to, exc, delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, 5.0)

    # -- housekeeping -------------------------------------------------------

    async def _reap_idle_sessions(self) -> None:
        if math.isinf(self._idle_timeout):
            return
        while True:
            await anyio.sleep(min(60.0, self._idle_timeout / 2))
            cutoff = time.monotonic() - self._idle_timeout
            for client in list(self._clients.values()):
                if not client.in_flight and client.last_active < cutoff:
                    logger.debug("closing idle session of client %s", client.client_id)
                    del self._clients[client.client_id]
                    client.to_session.close()

    async def _release_unfinished(self) -> None:
        for client in self._clients.values():
            for inbounds in client.in_flight.values():
                for inbound in inbounds:
                    await _settle(inbound.release)
            client.in_flight.clear()


async def _settle(action: Ack) -> None:
    """Run an ack/release; a failure is logged, never raised into the hub."""
    with anyio.CancelScope(shield=True):
        with anyio.move_on_after(_SETTLE_SECONDS):
            try:
                await action()
            except Exception as exc:  # the channel's own errors: the message will be redelivered
                logger.warning("could not settle a message (%s); it will be redelivered", exc)


def _preview(inbound: Inbound) -> str:
    body = inbound.raw_body
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    return (text[:120] + "...") if len(text) > 120 else text
