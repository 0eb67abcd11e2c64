"""One message taken from a channel, and how the server settles it.

A transport builds an `Inbound` for each message it receives and hands it to
the `SessionHub`; the hub later calls one of its settle actions: `ack` once the
message is done with, `release` to give it back for redelivery, `dead_letter`
for a message that must not come back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import anyio
import mcp_types as types

from asyncmcp_cli.observability import recorder
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.tracing import Processing
from asyncmcp_cli.types import Ack

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 15.0


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
    sender: str | None = None
    """Who put the message on the channel, where the channel says (SQS SenderId); None if unknown."""
    received_at: float = field(default_factory=time.monotonic)
    """When this process took it (monotonic clock), for the call duration."""
    trace: Processing | None = None
    """Its trace span while it is processed, if tracing is on; replies to it are sent inside it."""

    @property
    def method(self) -> str | None:
        """The JSON-RPC method it carries (None for a response or an unreadable message)."""
        return None if isinstance(self.message, Exception) else codec.method_of(self.message)

    async def dead_letter(self) -> None:
        recorder.current().dead_lettered(self.method)
        await (self.reject or self.ack)()


async def settle(action: Ack) -> None:
    """Run an ack/release; a failure is logged, never raised into the hub."""
    with anyio.CancelScope(shield=True):
        with anyio.move_on_after(SETTLE_SECONDS):
            try:
                await action()
            except Exception as exc:  # the channel's own errors: the message will be redelivered
                logger.warning("could not settle a message (%s); it will be redelivered", exc)


def preview(inbound: Inbound) -> str:
    body = inbound.raw_body
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    return (text[:120] + "...") if len(text) > 120 else text
