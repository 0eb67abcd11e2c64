"""One live connection to the upstream server, initialized once.

An existing server may know only the 2025-11-25 handshake (most do today), so
the link speaks that era to it: ``initialize`` once, as an SDK client would,
then any number of forwarded requests. Every server understands it, old or
new. Which era the queue clients speak is the front's business (`server`).
The capabilities it declares are the caller's: `SHARED_CAPABILITIES` for the
link every client shares, a client's own for a link opened for that client
(`sessions`), since servers shape what they offer on them.

The SDK's `JSONRPCDispatcher` runs the connection: it mints the upstream-side
request ids, matches answers, relays progress and sends courtesy cancels.
What the upstream starts on its own goes to `FrontRoutes`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
from mcp.shared.jsonrpc_dispatcher import JSONRPCDispatcher
from mcp_types.version import LATEST_HANDSHAKE_VERSION

from asyncmcp_cli import __version__
from asyncmcp_cli.protocol.relay import FrontRoutes
from asyncmcp_cli.upstream.target import UpstreamTarget

logger = logging.getLogger(__name__)

SHARED_CAPABILITIES = types.ClientCapabilities(
    sampling=types.SamplingCapability(),
    elicitation=types.ElicitationCapability(form=types.FormElicitationCapability()),
)
"""What the one shared link (``--upstream-sessions shared``) tells the upstream we can do: relay
sampling and form elicitation to a queue client (when the client's era allows it and the request
can be attributed; otherwise it gets an error)."""

NO_CAPABILITIES = types.ClientCapabilities()
"""What the shared link declares when clients that can receive server requests get links of their own."""


@dataclass(eq=False)
class Link:
    """An initialized connection: the dispatcher to send on and what the server said about itself."""

    dispatcher: JSONRPCDispatcher[Any]
    initialized: types.InitializeResult
    _ended: anyio.Event = field(default_factory=anyio.Event)

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    def end(self) -> None:
        """Give this connection up (the next request reconnects)."""
        self._ended.set()

    async def wait_ended(self) -> None:
        await self._ended.wait()


@asynccontextmanager
async def open_link(
    target: UpstreamTarget,
    routes: FrontRoutes,
    *,
    capabilities: types.ClientCapabilities = SHARED_CAPABILITIES,
    init_timeout: float = 60.0,
) -> AsyncIterator[Link]:
    """Connect, run the handshake, yield the link until it ends (connection lost or `end()`)."""
    async with target.connect() as (read_stream, write_stream), anyio.create_task_group() as tg:
        dispatcher: JSONRPCDispatcher[Any] = JSONRPCDispatcher(read_stream, write_stream)
        ended = anyio.Event()

        async def pump(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            try:
                await dispatcher.run(routes.on_request, routes.on_notify, task_status=task_status)
            finally:
                ended.set()

        await tg.start(pump)
        params = types.InitializeRequestParams(
            protocol_version=LATEST_HANDSHAKE_VERSION,
            capabilities=capabilities,
            client_info=types.Implementation(name="asyncmcp", version=__version__),
        )
        raw = await dispatcher.send_raw_request(
            "initialize",
            params.model_dump(by_alias=True, mode="json", exclude_none=True),
            {"timeout": init_timeout, "cancel_on_abandon": False},
        )
        initialized = types.InitializeResult.model_validate(raw, by_name=False)
        await dispatcher.notify("notifications/initialized", None)
        link = Link(dispatcher, initialized, ended)
        try:
            yield link
        finally:
            tg.cancel_scope.cancel()
