"""The clients a `SessionHub` serves: one SDK session each, bound to whoever opened it.

A client's first message opens its session and binds its client id to that
message's reply address (and, where the channel reports one, its sender). A
client id is public enough (a fixed `--client-id`, a profile's id) that it
must not be a key to someone else's session: whoever could switch its reply
address would get that client's answers. So a later message claiming the id
from elsewhere is refused (`claims_another_session`).

A session ends when the SDK ends it, when it has been idle (nothing in flight)
for `idle_timeout` seconds, or when the hub stops.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from asyncmcp_cli.transports.base import Connection
from asyncmcp_cli.transports.inbound import Inbound, settle
from asyncmcp_cli.transports.ordering import Sequencer

logger = logging.getLogger(__name__)

_SESSION_BUFFER = 16


@dataclass(eq=False)
class HubClient:
    """One client's SDK session, what it is bound to, and its requests still to be answered."""

    client_id: str
    reply_to: str
    sender: str | None
    to_session: MemoryObjectSendStream[SessionMessage | Exception]
    reply_ttl: float | None = None
    """What the client last declared; used for messages that answer no particular request."""
    refusal_logged: bool = False
    last_active: float = field(default_factory=time.monotonic)
    in_flight: dict[types.RequestId, list[Inbound]] = field(default_factory=dict)
    sequence: Sequencer = field(default_factory=Sequencer)


RouteReplies = Callable[[HubClient, MemoryObjectReceiveStream[SessionMessage]], None]
"""Starts carrying what a new client's session writes back to the client."""


class HubClients:
    """The open sessions by client id; iterate `connections()` for each new one's stream pair."""

    def __init__(self, route_replies: RouteReplies, *, idle_timeout: float) -> None:
        self._route_replies = route_replies
        self._idle_timeout = idle_timeout
        self._clients: dict[str, HubClient] = {}
        self._new_connections, self._connections = anyio.create_memory_object_stream[Connection](0)

    def connections(self) -> AsyncIterator[Connection]:
        return self._connections.__aiter__()

    @property
    def in_flight(self) -> int:
        return sum(len(client.in_flight) for client in self._clients.values())

    def claims_another_session(self, inbound: Inbound) -> bool:
        """True if the message names a client id whose session is bound to another reply address or sender.

        Logged once per client id, so a flood does not flood the log.
        """
        routing = inbound.routing
        client = self._clients.get(routing.client_id)  # type: ignore[arg-type]
        if client is None:
            return False
        same_sender = client.sender is None or inbound.sender == client.sender
        if routing.reply_to == client.reply_to and same_sender:
            return False
        if not client.refusal_logged:
            client.refusal_logged = True
            logger.warning(
                "refusing messages for client %s from %s %r: its session is bound to the one it started "
                "with; they are dead-lettered, nothing is sent (logged once per client id)",
                client.client_id,
                "reply address" if routing.reply_to != client.reply_to else "sender",
                routing.reply_to if routing.reply_to != client.reply_to else inbound.sender,
            )
        return True

    async def client_for(self, inbound: Inbound) -> HubClient:
        """The client's session, opened (and bound to this message's reply address and sender) if new."""
        client_id, reply_to = inbound.routing.client_id, inbound.routing.reply_to
        assert client_id is not None and reply_to is not None
        client = self._clients.get(client_id)
        if client is not None:
            client.reply_ttl = inbound.routing.reply_ttl
            return client
        to_session, session_reads = anyio.create_memory_object_stream[SessionMessage | Exception](_SESSION_BUFFER)
        session_writes, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        client = HubClient(client_id, reply_to, inbound.sender, to_session, inbound.routing.reply_ttl)
        self._clients[client_id] = client
        self._route_replies(client, from_session)
        logger.debug("new session for client %s (replies to %s)", client_id, reply_to)
        await self._new_connections.send(Connection(client_id, session_reads, session_writes))
        return client

    def session_ended(self, client: HubClient) -> None:
        """The client's session has written its last message: forget it (a new message opens a new one)."""
        client.to_session.close()
        if self._clients.get(client.client_id) is client:
            del self._clients[client.client_id]

    async def reap_idle(self) -> None:
        """Close the sessions idle for `idle_timeout` seconds with nothing in flight, until cancelled."""
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

    async def release_unfinished(self) -> None:
        """Give every unanswered request's channel message back for redelivery."""
        for client in self._clients.values():
            for inbounds in client.in_flight.values():
                for inbound in inbounds:
                    await settle(inbound.release)
            client.in_flight.clear()

    def close(self) -> None:
        """End every session and stop announcing new ones."""
        for client in self._clients.values():
            client.to_session.close()
        self._new_connections.close()
        self._connections.close()
