"""Opening one received queue message: its payload, its JSON-RPC message, its routing.

Shared by the long-polling `QueueListener` and the AWS Lambda handler
(`asyncmcp_cli.serverless`), so that a message is judged the same way whoever
received it: a claim check is followed only when bound to the message's own
routing (`asyncmcp_cli.aws.payloads`), a body that is not JSON-RPC becomes an
exception for the `SessionHub` to answer and dead-letter, and routing comes
from the attributes first, then `_meta`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import mcp_types as types

from asyncmcp_cli import tracing
from asyncmcp_cli.aws.payloads import Binding, ClaimCheck, Cleanup, nothing
from asyncmcp_cli.aws.sqs_queues import Received, SqsQueues, queue_name_of
from asyncmcp_cli.errors import AsyncMCPError, EndpointUnreachableError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.inbound import Inbound
from asyncmcp_cli.types import Ack

logger = logging.getLogger(__name__)

DEAD_LETTER_SOURCE = "asyncmcp-dead-letter-source"


@dataclass
class Opened:
    """A received message, ready for the hub."""

    body: str
    message: types.JSONRPCMessage | Exception
    routing: codec.Routing
    cleanup: Cleanup = nothing
    """Deletes the S3 copy of a claim-checked payload; run once the message is settled."""
    trace: tracing.Processing | None = None

    def traced(self, action: Ack, outcome: str) -> Ack:
        """`action`, ending the message's trace span once it has run."""
        if self.trace is None:
            return action
        trace = self.trace

        async def run() -> None:
            try:
                await action()
            finally:
                trace.end(outcome)

        return run

    def inbound(
        self,
        *,
        ack: Ack,
        release: Ack,
        reject: Ack,
        delivery_id: str | None,
        receive_count: int,
        sender: str | None,
    ) -> Inbound:
        """The message as the hub takes it, each way of settling it ending its trace span."""
        return Inbound(
            self.routing,
            self.message,
            self.traced(ack, "ack"),
            self.traced(release, "release"),
            raw_body=self.body,
            delivery_id=delivery_id,
            receive_count=receive_count,
            reject=self.traced(reject, "dead_letter"),
            sender=sender,
            trace=self.trace,
        )


async def open_message(
    body: str, attributes: dict[str, str], claims: ClaimCheck, *, received: Received | None = None
) -> Opened:
    """Expand and decode one request-channel message (`received`: the queue message, for its trace span).

    Raises `EndpointUnreachableError` when our own S3 cannot be reached (which
    says nothing about the message: leave it for redelivery); every other
    problem becomes the `Opened.message` exception.
    """
    message: types.JSONRPCMessage | Exception
    cleanup = nothing
    try:
        body, cleanup = await claims.expand(body, attributes, expect=Binding.of_request(attributes))
        message = codec.decode(body)
    except EndpointUnreachableError:
        raise
    except (codec.DecodeError, AsyncMCPError) as exc:
        message = exc
    routing = codec.routing_from(attributes, None if isinstance(message, Exception) else message)
    if received is None:
        return Opened(body, message, routing, cleanup)
    destination = tracing.Destination(tracing.SQS, queue_name_of(received.queue_url))
    trace = tracing.processing(destination, attributes, message, received.message_id or None)
    return Opened(body, trace.message, routing, cleanup, trace if trace.recording else None)


async def copy_to_dead_letters(queues: SqsQueues, received: Received, dead_letter_url: str | None) -> None:
    """Keep a poison message where an operator can find it: the dead-letter queue, else the log."""
    if dead_letter_url is None:
        # The hub has logged why (one line per message); that there is no dead-letter queue was said at start.
        logger.debug("dropped poison message %s: %.200s", received.message_id, received.body)
        return
    attributes = dict(received.attributes) | {DEAD_LETTER_SOURCE: received.queue_url}
    await queues.send(dead_letter_url, received.body, attributes, check_size=False)
    # The hub has already logged why, once per cause: one line per message would let a flood flood the log.
    logger.debug("moved poison message %s to %s", received.message_id, dead_letter_url)
