"""Serve one Lambda batch of SQS records with the same hub the long-polling server uses.

Each record becomes an `Inbound` whose settle actions record an outcome
instead of touching the queue, because the event source mapping owns the
messages: it deletes every record the function does not report, and makes
the reported ones (``batchItemFailures``) visible again after their
visibility timeout.

- ``ack`` (answered, or nothing to answer): success; Lambda deletes the message.
- ``release`` (a reply could not be sent yet, the request did not finish in
  time): reported as failed, so SQS redelivers it; the queue's redrive policy
  bounds how often.
- ``dead_letter`` (poison: undecodable, refused routing, a claim check that
  is not followed, a request that keeps failing): copied to the dead-letter
  queue (``dead_letter_queue`` when set, else the source queue's redrive target), then
  success, so a record that can never succeed is not retried for ever. If the
  copy fails the record is reported as failed and the redrive policy takes it.

Sessions live for one invocation. A request is served in the 2026-07-28
stateless era, where it carries everything the server needs; a request of the
handshake era (``initialize``, or any request without the per-request
``_meta`` envelope) is answered with an error saying so and dead-lettered:
its next request could reach another container, where no session remembers it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.runner import serve_dual_era_loop
from mcp_types import PROTOCOL_VERSION_META_KEY

from asyncmcp_cli import aws
from asyncmcp_cli.aws.payloads import ClaimCheck
from asyncmcp_cli.aws.sqs_queues import SqsQueues
from asyncmcp_cli.delivery.allowlist import AllowList
from asyncmcp_cli.delivery.results import ResultStore
from asyncmcp_cli.errors import AsyncMCPError, EndpointUnreachableError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.serverless.events import Record
from asyncmcp_cli.tap import tapping
from asyncmcp_cli.transports.hub import SessionHub
from asyncmcp_cli.transports.intake import Opened, copy_to_dead_letters, open_message
from asyncmcp_cli.transports.sqs import SqsOptions, reply_sender

logger = logging.getLogger(__name__)


class StatelessOnlyError(AsyncMCPError):
    """A handshake-era request, which a function whose sessions last one invocation cannot serve."""

    jsonrpc_code = types.INVALID_REQUEST

    def __init__(self, method: str | None) -> None:
        super().__init__(
            f"{method or 'this request'} refused: this server runs on AWS Lambda and serves the stateless "
            f"protocol (2026-07-28) only; send every request with _meta {PROTOCOL_VERSION_META_KEY!r} "
            "(asyncmcp connect --era stateless)"
        )


@dataclass(frozen=True)
class QueueFacts:
    """What the handler learns once per source queue and keeps while the container is warm."""

    url: str
    dead_letter_url: str | None
    max_receives: int


@dataclass
class Outcomes:
    """Which records are settled, and which of those failed (to be retried)."""

    pending: set[str]
    failed: set[str] = field(default_factory=set)
    all_settled: anyio.Event = field(default_factory=anyio.Event)

    def settle(self, message_id: str, *, ok: bool) -> None:
        if message_id not in self.pending:
            return  # settled already (a redelivered duplicate joins its running original)
        self.pending.discard(message_id)
        if not ok:
            self.failed.add(message_id)
        if not self.pending:
            self.all_settled.set()


async def serve_batch(
    server: Server[Any],
    records: Sequence[Record],
    options: SqsOptions,
    *,
    queues: SqsQueues,
    facts: dict[str, QueueFacts],
    results: ResultStore | None,
    deadline: float,
) -> list[str]:
    """Serve `records`; return the message ids that failed (to be retried), in record order.

    `facts` maps source ARNs to what is known about their queues (filled in here
    when missing). `deadline` is a `time.monotonic()` after which requests still
    running are given up and reported as failed.
    """
    outcomes = Outcomes({record.message_id for record in records})
    if not records:
        return []
    for record in records:
        if record.source.text not in facts:
            facts[record.source.text] = await _learn(queues, record, options)
    home = facts[records[0].source.text]
    async with tapping(options.aws, options.tap) as tap, server.lifespan(server) as lifespan_state:
        hub = SessionHub(
            reply_sender(queues, options, tap),
            admits=AllowList.of(options.allow_reply, home=home.url).admits,
            results=results,
            max_receives=home.max_receives,
        )
        init_options = server.create_initialization_options()
        async with hub.running(), anyio.create_task_group() as sessions:

            async def accept() -> None:
                async for connection in hub:
                    sessions.start_soon(
                        lambda c=connection: serve_dual_era_loop(
                            server,
                            c.read_stream,
                            c.write_stream,
                            lifespan_state=lifespan_state,
                            init_options=init_options,
                        )
                    )

            sessions.start_soon(accept)
            for record in records:
                await _deliver(hub, record, facts[record.source.text], queues, options.claims, outcomes)
            with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
                await outcomes.all_settled.wait()
            if outcomes.pending:
                logger.warning(
                    "%d request(s) still running as the function's time runs out; reported as failed for redelivery",
                    len(outcomes.pending),
                )
            await hub.drain(0)  # releases whatever is unfinished: reported as failed below
            sessions.cancel_scope.cancel()
    failed = outcomes.failed | outcomes.pending
    return [record.message_id for record in records if record.message_id in failed]


async def _learn(queues: SqsQueues, record: Record, options: SqsOptions) -> QueueFacts:
    """The source queue's URL, its dead-letter queue and how many receives it allows."""
    sqs = aws.client("sqs", queues.settings)
    response = await aws.call(
        sqs.get_queue_url, QueueName=record.source.name, QueueOwnerAWSAccountId=record.source.account
    )
    url = response["QueueUrl"]
    redrive_url, redrive_max = await queues.redrive_target(url)
    dead_letter_url = await queues.url_for(options.dead_letter_queue) if options.dead_letter_queue else redrive_url
    return QueueFacts(url, dead_letter_url, redrive_max or options.max_receive_count)


async def _deliver(
    hub: SessionHub, record: Record, facts: QueueFacts, queues: SqsQueues, claims: ClaimCheck, outcomes: Outcomes
) -> None:
    message_id = record.message_id
    received = replace(record.received, queue_url=facts.url)
    try:
        opened = await open_message(received.body, received.attributes, claims, received=received)
    except EndpointUnreachableError as exc:
        logger.warning("could not fetch the payload of message %s (%s); reported for redelivery", message_id, exc)
        outcomes.settle(message_id, ok=False)
        return
    opened = _refuse_handshake_era(opened)

    async def ack() -> None:
        outcomes.settle(message_id, ok=True)
        await opened.cleanup()

    async def release() -> None:
        outcomes.settle(message_id, ok=False)

    async def reject() -> None:
        try:
            await copy_to_dead_letters(queues, received, facts.dead_letter_url)
        except AsyncMCPError as exc:
            logger.warning("could not dead-letter message %s (%s); reported as failed instead", message_id, exc)
            outcomes.settle(message_id, ok=False)
            return
        outcomes.settle(message_id, ok=True)

    await hub.deliver(
        opened.inbound(
            ack=ack,
            release=release,
            reject=reject,
            delivery_id=message_id,
            receive_count=received.receive_count,
            sender=received.sender_id,
        )
    )


def _refuse_handshake_era(opened: Opened) -> Opened:
    message = opened.message
    if isinstance(message, Exception) or not codec.is_request(message):
        return opened
    if PROTOCOL_VERSION_META_KEY in codec.meta_of(message) and codec.method_of(message) != "initialize":
        return opened
    return replace(opened, message=StatelessOnlyError(codec.method_of(message)))
