"""The shape every transport has.

Client side: an async context manager yielding the SDK's `(read_stream,
write_stream)`; pass it to `mcp.Client(...)` or `ClientSession(read, write)`.

Server side: an async context manager yielding a `Listener`, an async iterator
of `Connection`s, one per client. Each connection carries the same stream pair
for one SDK session; `asyncmcp_cli.server.serve` runs the server on each. A
`HostingTransport` instead runs the SDK server itself (`host_server`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from asyncmcp_cli.types import SessionReadStream, SessionWriteStream, TransportStreams


@dataclass
class Connection:
    """One client's session on a server transport."""

    client_id: str
    read_stream: SessionReadStream
    write_stream: SessionWriteStream


CLIENT_ID: ContextVar[str | None] = ContextVar("asyncmcp_client_id", default=None)
"""The client id of the `Connection` whose SDK session the current request runs in.

Set by `asyncmcp_cli.server.serve` for each session, so handlers can bind state
to the client the transport vouched for (its id is bound to its reply address).
"""


@dataclass(eq=False)
class SessionScope:
    """One SDK session that `asyncmcp_cli.server.serve` runs for a client, as its handlers see it.

    Why: per-client state (the upstream's own links for a client) must live
    exactly as long as the client's session. The SDK keeps its per-session
    `Connection` private to the request context in mcp 2.3, so `serve`, which
    runs each session, hands out this one instead (`SESSION`). It has the
    same shape as the SDK's (`state`, `exit_stack`), so code can take either.
    """

    client_id: str
    state: dict[str, Any] = field(default_factory=dict)
    """Per-session scratch state; kept across the session's requests."""
    exit_stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    """Unwound (shielded) once the session has ended."""

    @property
    def has_standalone_channel(self) -> bool:
        """Always: the session runs over a duplex stream pair, so the server can write to it unasked."""
        return True


SESSION: ContextVar[SessionScope | None] = ContextVar("asyncmcp_session", default=None)
"""The `SessionScope` of the SDK session the current request runs in, set by `serve` like `CLIENT_ID`."""


class Listener(Protocol):
    """Yields a `Connection` for every client that shows up."""

    def __aiter__(self) -> AsyncIterator[Connection]: ...

    async def drain(self, grace_seconds: float) -> int:
        """Stop taking new messages; wait up to `grace_seconds` for in-flight requests.

        Returns how many requests were still unfinished; the transport leaves
        those to be redelivered (e.g. makes their queue messages visible again).
        """
        ...


class Transport(Protocol):
    """A configured channel: one object gives both the server and the client side."""

    scheme: str

    def listen(self) -> AbstractAsyncContextManager[Listener]:
        """Server side: accept clients."""
        ...

    def connect(self, *, client_id: str | None = None) -> AbstractAsyncContextManager[TransportStreams]:
        """Client side: the SDK's stream pair for one client session."""
        ...

    def describe(self) -> dict[str, Any]:
        """What this transport is bound to (queues, endpoint, ...), for logs and `--json`."""
        ...


@runtime_checkable
class HostingTransport(Protocol):
    """A transport that runs the SDK server itself instead of yielding connections.

    Streamable HTTP is one: the SDK's session manager owns its sessions (and
    the server's lifespan). `asyncmcp_cli.server.serve` calls `host_server`
    instead of entering the lifespan and `listen()`; the listener it yields
    yields no connections, and its `drain` works as for any other.
    """

    def host_server(self, server: Any) -> AbstractAsyncContextManager[Listener]: ...


@runtime_checkable
class SharingTransport(Protocol):
    """A transport whose clients in one process can share what each would otherwise open alone.

    The webhook transports are: inside `clients()`, all their clients share one
    webhook receiver. A program that opens many clients at once (the proxy)
    runs them inside it.
    """

    def clients(self) -> AbstractAsyncContextManager[None]: ...


@runtime_checkable
class NamingTransport(Protocol):
    """A transport whose client ids must follow its configuration.

    SNS+SQS is one: a shared reply topic delivers to a client's reply queue only
    the ids its filter policy admits (those under a prefix). A program that picks
    ids for its clients itself (the proxy, one per front session) asks for them here.
    """

    def new_client_id(self) -> str: ...
