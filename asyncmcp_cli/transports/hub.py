"""Server-side demultiplexing shared by every asynchronous server transport.

Channel messages from many clients arrive on one queue (or endpoint). The hub
gives each client id its own SDK session (a `Connection`), feeds the client's
messages into it, and routes what the session writes back to the reply address
that client declared.

Delivery: a request's channel message is settled (`ack`, e.g. deleted) only
after its response has been sent. A redelivered copy of a request that is still
running is not started again: its ack joins the running one.

Hostile input: `deliver` only routes; every send (answers from the result
cache, errors, dead letters) runs in the background, so no message, whatever
its reply address, holds up the ones behind it. A client id is bound to the
reply address (and, where the channel reports one, the sender) that opened its
session; a message claiming the id from elsewhere is dead-lettered unseen
(`hub_clients`, which keeps the sessions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream
from mcp.shared.message import ServerMessageMetadata, SessionMessage

from asyncmcp_cli import tracing
from asyncmcp_cli.aws import batching
from asyncmcp_cli.delivery.results import ResultStore
from asyncmcp_cli.observability import recorder
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.base import Connection
from asyncmcp_cli.transports.hub_clients import HubClient, HubClients
from asyncmcp_cli.transports.inbound import Inbound, preview, settle
from asyncmcp_cli.transports.ordering import SEQUENCE
from asyncmcp_cli.transports.replies import Replies, ReplySender, Sent

__all__ = ["Inbound", "ReplySender", "SessionHub"]

logger = logging.getLogger(__name__)

_CACHE_LOOKUP_SECONDS = 5.0


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
        self._replies = Replies(send)
        self._admits = admits
        self._results = results
        self._max_receives = max_receives
        self._clients = HubClients(self._start_routing, idle_timeout=idle_timeout)
        self._tg: anyio.abc.TaskGroup | None = None
        self._idle = anyio.Event()
        self._idle.set()
        self._closed = False

    # -- lifecycle ----------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[SessionHub]:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            recorder.current().watch_in_flight(lambda: self.in_flight)
            tg.start_soon(self._clients.reap_idle)
            try:
                yield self
            finally:
                await self._clients.release_unfinished()
                self._clients.close()
                tg.cancel_scope.cancel()

    def __aiter__(self) -> AsyncIterator[Connection]:
        return self._clients.connections()

    @property
    def in_flight(self) -> int:
        return self._clients.in_flight

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
        await self._clients.release_unfinished()
        return unfinished

    # -- inbound ------------------------------------------------------------

    async def deliver(self, inbound: Inbound) -> None:
        """Route one channel message into its client's session, or settle it in the background.

        Returns as soon as the message is routed: nothing here waits on a send.
        """
        routing = inbound.routing
        if isinstance(inbound.message, Exception) or codec.is_request(inbound.message):
            recorder.current().request_received(inbound.method)
        if not routing.client_id or not routing.reply_to:
            logger.warning(
                "dropping message without %s: %s",
                "client id" if not routing.client_id else "reply address",
                preview(inbound),
            )
            self._in_background(settle, inbound.dead_letter)
            return
        if not self._admits(routing.reply_to):
            logger.warning(
                "refusing reply address %r from client %r: malformed or not admitted by the allow-list; nothing sent",
                routing.reply_to,
                routing.client_id,
                extra={"client_id": routing.client_id},
            )
            self._in_background(settle, inbound.dead_letter)
            return
        if self._clients.claims_another_session(inbound):
            self._in_background(settle, inbound.dead_letter)
            return
        message = inbound.message
        if isinstance(message, Exception):
            logger.warning(
                "bad message from client %s: %s", routing.client_id, message, extra={"client_id": routing.client_id}
            )
            rid = codec.sniff_request_id(inbound.raw_body)
            code = getattr(message, "jsonrpc_code", types.PARSE_ERROR)  # a refusal may name its own code
            error = codec.error_reply(rid, code, f"asyncmcp: {message}")
            self._in_background(self._answer_and_dead_letter, inbound, error)
            return

        if codec.is_request(message):
            await self._deliver_request(inbound, message, routing)
            return
        client = await self._clients.client_for(inbound)
        client.last_active = time.monotonic()
        if await self._into_session(client, inbound, message):
            self._in_background(settle, inbound.ack)

    def _in_background(self, action: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Send and settle off the intake path, so no message (a flood of poison, a reply address
        that does not answer) slows the poller down for everyone else.

        The channel message stays unsettled (and counted against max_in_flight) until it runs.
        """
        assert self._tg is not None, "SessionHub used outside running()"
        self._tg.start_soon(action, *args)

    async def _answer(self, inbound: Inbound, response: types.JSONRPCMessage) -> Sent:
        """Send `response` to the reply address `inbound` named (under its trace); count it if it went."""
        routing = inbound.routing
        assert routing.reply_to is not None and routing.client_id is not None
        with tracing.attached(inbound.trace):
            sent = await self._replies.send(routing.reply_to, routing.client_id, response, reply_ttl=routing.reply_ttl)
        if sent is Sent.SENT:
            _answered(inbound, response)
        return sent

    async def _answer_and_dead_letter(self, inbound: Inbound, error: types.JSONRPCMessage) -> None:
        await self._answer(inbound, error)
        await settle(inbound.dead_letter)

    async def _deliver_request(self, inbound: Inbound, message: types.JSONRPCMessage, routing: codec.Routing) -> None:
        assert routing.client_id is not None and routing.reply_to is not None
        rid = codec.request_id_of(message)
        assert rid is not None
        if self._replies.known_unreachable(routing.reply_to):
            logger.debug("request %s of client %s names an unreachable reply address", rid, routing.client_id)
            self._in_background(settle, inbound.dead_letter)
            return
        cached = await self._cached_response(inbound)
        if cached is not None:
            logger.info(
                "request %s of client %s was already answered; resending the stored response", rid, routing.client_id
            )
            self._in_background(self._resend, inbound, cached)
            return
        client = await self._clients.client_for(inbound)
        client.last_active = time.monotonic()
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
                extra={"client_id": client.client_id, "request_id": rid, "method": inbound.method},
            )
            text = f"asyncmcp: request failed {inbound.receive_count} times on the server; not retried again"
            self._in_background(
                self._answer_and_dead_letter, inbound, codec.error_reply(rid, types.INTERNAL_ERROR, text)
            )
            return
        if not client.in_flight:  # nothing earlier is still owed: a client that reconnected waits for nothing
            client.sequence.restart()
        client.in_flight[rid] = [inbound]
        self._idle = anyio.Event() if self._idle.is_set() else self._idle

        async def settle_unanswered() -> None:
            """The SDK ended the request without a response (the client cancelled it): settle it,
            so that it is neither kept alive by the heartbeat nor run again elsewhere."""
            if self._closed:  # shutting down: drain() has already given it back for redelivery
                return
            for pending in client.in_flight.pop(rid, []):
                await settle(pending.ack)
            if not self.in_flight:
                self._idle.set()

        metadata = ServerMessageMetadata(on_request_unanswered=settle_unanswered)
        if not await self._into_session(client, inbound, message, metadata):
            client.in_flight.pop(rid, None)

    async def _into_session(
        self,
        client: HubClient,
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
            await settle(inbound.release)
            return False

    def _keeps_failing(self, inbound: Inbound) -> bool:
        return self._max_receives is not None and inbound.receive_count >= self._max_receives

    async def _cached_response(self, inbound: Inbound) -> types.JSONRPCMessage | None:
        """The stored response to a redelivered request, if it was answered before.

        The lookup is bounded: a store that does not answer in time counts as a miss, and
        the request runs as if new, rather than holding up every message behind it.
        """
        if self._results is None or inbound.delivery_id is None:
            return None
        try:
            with anyio.fail_after(_CACHE_LOOKUP_SECONDS):
                cached = await self._results.get(inbound.delivery_id)
            return None if cached is None else codec.decode(cached)
        except Exception as exc:  # an unreachable cache must not stop the request; it runs as if new
            logger.warning("could not look up a stored response: %s", exc)
            return None

    async def _resend(self, inbound: Inbound, response: types.JSONRPCMessage) -> None:
        """Answer a redelivery from the result cache, then settle it (in the background).

        A request that has been received `max_receives` times is settled whatever happens,
        so a response that can never be delivered does not come back forever.
        """
        sent = await self._answer(inbound, response)
        if sent is Sent.SENT:
            await settle(inbound.ack)
        elif sent is Sent.UNREACHABLE or self._keeps_failing(inbound):
            if sent is Sent.GAVE_UP:
                logger.error(
                    "stored response %s for client %s could not be sent in %d receives; moving it to the dead letters",
                    codec.request_id_of(response),
                    inbound.routing.client_id,
                    inbound.receive_count,
                )
            await settle(inbound.dead_letter)
        else:
            await settle(inbound.release)

    # -- outbound -----------------------------------------------------------

    def _start_routing(self, client: HubClient, from_session: MemoryObjectReceiveStream[SessionMessage]) -> None:
        assert self._tg is not None, "SessionHub used outside running()"
        self._tg.start_soon(self._route_replies, client, from_session)

    async def _route_replies(self, client: HubClient, from_session: MemoryObjectReceiveStream[SessionMessage]) -> None:
        assert self._tg is not None
        async with from_session:
            async for session_message in from_session:
                # numbered here, in the order the session wrote them, so the client can restore that order
                # however the concurrent sends below (and the channel) reorder them
                self._tg.start_soon(self._reply, client, session_message.message, client.sequence.next())
        self._clients.session_ended(client)

    async def _reply(self, client: HubClient, message: types.JSONRPCMessage, sequence: str) -> None:
        if self._closed:
            logger.debug(
                "shutting down: not sending %s to client %s", codec.method_of(message) or "reply", client.client_id
            )
            return
        extra = {SEQUENCE: sequence}
        batching.company_expected.set(self.in_flight > 1)  # other requests running: more replies follow soon
        if not codec.is_reply(message):
            await self._replies.send(client.reply_to, client.client_id, message, extra, reply_ttl=client.reply_ttl)
            return
        inbounds = client.in_flight.get(codec.request_id_of(message), [])  # type: ignore[arg-type]
        await self._remember(inbounds, message)
        reply_ttl = inbounds[0].routing.reply_ttl if inbounds else client.reply_ttl
        with tracing.attached(inbounds[0].trace if inbounds else None):
            sent = await self._replies.send(client.reply_to, client.client_id, message, extra, reply_ttl=reply_ttl)
        client.last_active = time.monotonic()
        inbounds = client.in_flight.pop(codec.request_id_of(message), [])  # type: ignore[arg-type]
        if sent is Sent.SENT and inbounds:
            _answered(inbounds[0], message)
        for inbound in inbounds:
            if sent is Sent.SENT:
                await settle(inbound.ack)
            elif sent is Sent.UNREACHABLE:  # no use running it again: nobody could hear the answer
                await settle(inbound.dead_letter)
            else:
                await settle(inbound.release)
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


def _answered(inbound: Inbound, response: types.JSONRPCMessage) -> None:
    """Count a sent response to `inbound`'s request, and log it with what a JSON log line can carry."""
    seconds = time.monotonic() - inbound.received_at
    error = isinstance(response, types.JSONRPCError)
    recorder.current().request_answered(inbound.method, seconds, error=error)
    logger.debug(
        "answered %s request %s of client %s in %.3fs%s",
        inbound.method,
        codec.request_id_of(response),
        inbound.routing.client_id,
        seconds,
        " (error)" if error else "",
        extra={
            "client_id": inbound.routing.client_id,
            "request_id": codec.request_id_of(response),
            "method": inbound.method,
            "duration": round(seconds, 6),
        },
    )
