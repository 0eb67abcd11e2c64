"""In-process transport for tests and examples: ``memory://NAME``.

Messages go through the same encoding and the same `SessionHub` as the queue
transports, so the contract suite exercises the shared server core; only the
channel is a pair of in-memory streams instead of a queue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from asyncmcp_cli.delivery.results import MemoryResultStore
from asyncmcp_cli.errors import TransportError
from asyncmcp_cli.options import query_options
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.hub import Inbound, SessionHub
from asyncmcp_cli.transports.queue_client import new_client_id
from asyncmcp_cli.types import TransportStreams

_BUFFER = 64
Frame = tuple[str, dict[str, str], str | None, str | None]
"""(body, attributes, delivery id, sender) as they would travel on a real channel."""


@dataclass
class _Network:
    requests_in: MemoryObjectSendStream[Frame]
    requests_out: MemoryObjectReceiveStream[Frame]
    inboxes: dict[str, MemoryObjectSendStream[str]] = field(default_factory=dict)
    users: int = 0


_networks: dict[str, _Network] = {}


def _network(name: str) -> _Network:
    if name not in _networks:
        _networks[name] = _Network(*anyio.create_memory_object_stream[Frame](_BUFFER))
    return _networks[name]


@contextmanager
def _joined(name: str) -> Iterator[_Network]:
    """Use a network; the last user to leave closes it, so no stream outlives its users."""
    network = _network(name)
    network.users += 1
    try:
        yield network
    finally:
        network.users -= 1
        if network.users == 0 and _networks.get(name) is network:
            del _networks[name]
            network.requests_in.close()
            network.requests_out.close()


async def inject(
    name: str, body: str, attributes: dict[str, str], *, delivery_id: str | None = None, sender: str | None = None
) -> None:
    """Put a raw frame on a memory network's request channel (tests: bad input, redeliveries, senders)."""
    await _network(name).requests_in.send((body, attributes, delivery_id, sender))


async def inject_reply(name: str, client_id: str, body: str) -> None:
    """Put a raw body in a connected client's inbox."""
    await _network(name).inboxes[_address(client_id)].send(body)


def _address(client_id: str) -> str:
    return f"memory:{client_id}"


class _MemoryListener:
    def __init__(self, hub: SessionHub) -> None:
        self._hub = hub
        self._intake = anyio.CancelScope()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._hub.__aiter__()

    async def drain(self, grace_seconds: float) -> int:
        self._intake.cancel()
        return await self._hub.drain(grace_seconds)


class MemoryTransport:
    scheme = "memory"

    def __init__(self, name: str = "default") -> None:
        self.name = name

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> MemoryTransport:
        return cls(**query_options(url, target="name", overrides=overrides))

    def describe(self) -> dict[str, Any]:
        return {"transport": self.scheme, "name": self.name}

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[_MemoryListener]:
        with _joined(self.name) as network:
            async with self._listening(network) as listener:
                yield listener

    @asynccontextmanager
    async def _listening(self, network: _Network) -> AsyncIterator[_MemoryListener]:

        async def send_reply(
            reply_to: str,
            client_id: str,
            message: types.JSONRPCMessage,
            extra: Mapping[str, str],
            *,
            reply_ttl: float | None = None,
        ) -> None:
            # Nothing waits on a queue here, so there is nothing to expire; and `extra` (the sequence
            # number) is not carried: sends start in the order they are numbered and go straight into
            # one in-process stream, which keeps that order
            inbox = network.inboxes.get(reply_to)
            if inbox is None:
                raise TransportError(f"no client at {reply_to}")
            await inbox.send(codec.encode(message))

        hub = SessionHub(send_reply, admits=lambda address: address.startswith("memory:"), results=MemoryResultStore())
        async with hub.running():
            listener = _MemoryListener(hub)

            async def intake() -> None:
                with listener._intake:
                    async for body, attributes, delivery_id, sender in network.requests_out:
                        await hub.deliver(_inbound(body, attributes, delivery_id, sender))

            async with anyio.create_task_group() as tg:
                tg.start_soon(intake)
                try:
                    yield listener
                finally:
                    tg.cancel_scope.cancel()

    @asynccontextmanager
    async def connect(self, *, client_id: str | None = None) -> AsyncIterator[TransportStreams]:
        with _joined(self.name) as network:
            async with self._connected(network, client_id) as streams:
                yield streams

    @asynccontextmanager
    async def _connected(self, network: _Network, client_id: str | None) -> AsyncIterator[TransportStreams]:
        client_id = client_id or new_client_id()
        address = _address(client_id)
        inbox_in, inbox_out = anyio.create_memory_object_stream[str](_BUFFER)
        network.inboxes[address] = inbox_in
        read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
        attributes = {codec.CLIENT_ID: client_id, codec.REPLY_TO: address}

        async def write_requests() -> None:
            async with write_reader:
                async for session_message in write_reader:
                    await network.requests_in.send((codec.encode(session_message), attributes, None, None))

        async def read_replies() -> None:
            async with read_writer, inbox_out:
                async for body in inbox_out:
                    try:
                        item: SessionMessage | Exception = SessionMessage(codec.decode(body))
                    except codec.DecodeError as exc:
                        item = exc
                    try:
                        await read_writer.send(item)
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                        # The session has closed its end while the server still had something to say
                        # (a log line after the last answer): nobody is left to read it.
                        return

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(write_requests)
                tg.start_soon(read_replies)
                try:
                    yield read_stream, write_stream
                finally:
                    tg.cancel_scope.cancel()
        finally:
            network.inboxes.pop(address, None)
            for stream in (inbox_in, inbox_out, read_writer, read_stream, write_stream, write_reader):
                stream.close()


def _inbound(body: str, attributes: dict[str, str], delivery_id: str | None, sender: str | None) -> Inbound:
    message: types.JSONRPCMessage | Exception
    try:
        message = codec.decode(body)
    except codec.DecodeError as exc:
        message = exc
    routing = codec.routing_from(attributes, None if isinstance(message, Exception) else message)

    async def settle() -> None:
        return None

    return Inbound(routing, message, ack=settle, release=settle, raw_body=body, delivery_id=delivery_id, sender=sender)
