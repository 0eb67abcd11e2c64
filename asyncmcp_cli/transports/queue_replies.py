"""The server's sender of messages to a client's reply queue or topic, for the queue-backed transports.

`sqs` sends to the client's reply queue, `sns+sqs` publishes to its reply
topic; everything else about a reply is the same, and lives here: it expires
(`reply_expiry`) after the client's granted ``reply_ttl``, travels by claim
check when it is too large (bound to that client and address), carries the
trace context, and is copied to the tap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import mcp_types as types

from asyncmcp_cli import tracing
from asyncmcp_cli.aws.payloads import TO_CLIENT, Binding
from asyncmcp_cli.delivery import reply_expiry
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.tap import Tap, now_ms
from asyncmcp_cli.transports.queue_options import QueueTransportOptions
from asyncmcp_cli.transports.replies import ReplySender

Deliver = Callable[[str, str, dict[str, str], str], Awaitable[str]]
"""Puts ``(address, body, attributes, client_id)`` on the channel; returns the message id."""


def reply_attributes(client_id: str, message: types.JSONRPCMessage, *, ttl: float) -> dict[str, str]:
    """The attributes a server puts on a message to a client; it expires `ttl` seconds from now."""
    attributes = {codec.CLIENT_ID: client_id, reply_expiry.EXPIRES_AT: reply_expiry.stamp(ttl)}
    if method := codec.method_of(message):
        attributes[codec.METHOD] = method
    return attributes


def queue_reply_sender(
    options: QueueTransportOptions,
    tap: Tap,
    *,
    resolve: Callable[[str], Awaitable[str]],
    destination: Callable[[str], tracing.Destination],
    deliver: Deliver,
) -> ReplySender:
    """A `ReplySender` that `resolve`s a reply address and `deliver`s to it: claim-checked, expiry-stamped, tapped.

    `destination` names the resolved address for the trace.
    """
    claims = options.claims

    async def send_reply(
        reply_to: str,
        client_id: str,
        message: types.JSONRPCMessage,
        extra: Mapping[str, str],
        *,
        reply_ttl: float | None = None,
    ) -> None:
        address = await resolve(reply_to)
        ttl = reply_expiry.granted_ttl(reply_ttl, options.max_reply_ttl)
        with tracing.sending(destination(address), message) as hop:
            body, attributes = await claims.shrink(
                codec.encode(hop.message),
                reply_attributes(client_id, message, ttl=ttl) | dict(extra) | hop.attributes,
                bound_to=Binding(TO_CLIENT, client_id, reply_to),
            )
            sent_at = now_ms()
            hop.sent(await deliver(address, body, attributes, client_id))
        tap.copy(address, body, attributes, sent_at_ms=sent_at)

    return send_reply
