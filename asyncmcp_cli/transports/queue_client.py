"""The client side of a queue-backed transport: send requests, read the reply queue.

Shared by the SQS and SNS+SQS transports; they differ in how a request is sent
(`SendRequest`) and how a reply-queue message is unwrapped.

The reply queue is durable and named: a client may share it with others (each
message names its client id) and may leave and come back. Messages for another
client id are left for that client, hidden a little longer each time they come
back, and deleted once past their expiry (`reply_expiry`: their client is gone);
responses for ids this client is not waiting for (duplicates, stale answers) are
deleted and ignored. Each request declares how long its answers should wait
(`reply_ttl`). Clients of one process that read the same reply queue share
their polls (`reply_demux`).
The session gets the server's messages in the order it wrote them (`ordering`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from asyncmcp_cli import tracing
from asyncmcp_cli.aws import batching
from asyncmcp_cli.aws.payloads import (
    CLAIM_CHECK,
    REFUSED,
    TO_CLIENT,
    Binding,
    ClaimCheck,
    ClaimCheckRefusedError,
    Cleanup,
    nothing,
)
from asyncmcp_cli.aws.sqs_queues import MAX_BATCH, Received, SqsQueues, queue_name_of
from asyncmcp_cli.delivery import not_sent, reply_expiry
from asyncmcp_cli.errors import AsyncMCPError, EndpointUnreachableError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports import ordering, reply_demux
from asyncmcp_cli.transports.queue_listener import Unwrap, plain
from asyncmcp_cli.types import TransportStreams

logger = logging.getLogger(__name__)

SendRequest = Callable[[str, dict[str, str]], Awaitable["str | None"]]
"""send(body, attributes): put one client message on the server's request channel; returns its message id."""

SEND_RETRY_SECONDS = 60.0
"""How long a client keeps retrying a send while the endpoint is unreachable or failing (HTTP 5xx).

This rides out an outage in a session that is already running. A one-shot
command checks the endpoint first (`aws.check_reachable`) and fails fast if
its very first contact fails."""

REPLY_VISIBILITY_SECONDS = 10
"""Visibility timeout of received replies. A reply is deleted once read, in a batch call that
may linger (`sqs_queues.DELETE_LINGER_SECONDS`) and, on a loaded host, queue behind other calls
for seconds: the delete must land before the reply becomes visible again, or it fails
(ReceiptHandleIsInvalid) and the reply is read twice. A poll cancelled mid-way gives back what it
received at once (`SqsQueues.receive`), so this only delays replies that a client killed
mid-poll (SIGKILL) had taken: they reappear after this long, for the client they belong to."""


SETTLE_SECONDS = 15.0
"""How long a client closing down still waits to delete a consumed reply and its S3 object."""


def new_client_id() -> str:
    return uuid.uuid4().hex


@asynccontextmanager
async def queue_client_streams(
    queues: SqsQueues,
    *,
    send: SendRequest,
    reply_url: str,
    reply_address: str,
    client_id: str,
    wait_seconds: int = 20,
    reply_ttl: float = reply_expiry.DEFAULT_LIVE_TTL,
    unwrap: Unwrap = plain,
    claims: ClaimCheck | None = None,
    trace_as: tracing.Destination | None = None,
) -> AsyncIterator[TransportStreams]:
    """The SDK's stream pair for one client over a request channel and a reply queue.

    `trace_as` names the request channel in trace spans (`asyncmcp_cli.tracing`).
    """
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    waiting: set[types.RequestId] = set()
    in_order = ordering.Reorder[str](lambda body: _forward(body, read_writer, waiting), waits_for_backlog=True)
    attributes = {
        codec.CLIENT_ID: client_id,
        codec.REPLY_TO: reply_address,
        reply_expiry.REPLY_TTL: reply_expiry.declare(reply_ttl),
    }
    claim_checks = claims or ClaimCheck()  # without a bucket, every claim check is refused
    bound_to = Binding(TO_CLIENT, client_id, reply_address)
    reply_destination = tracing.Destination(tracing.SQS, queue_name_of(reply_url))

    async def send_one(message: types.JSONRPCMessage) -> None:
        rid = codec.request_id_of(message) if codec.is_request(message) else None
        extra = {codec.METHOD: method} if (method := codec.method_of(message)) else {}
        batching.company_expected.set(len(waiting) > 1)  # other calls in flight: this send may wait for company
        try:
            with tracing.sending(trace_as, message) as hop:
                sent = await _send_with_retry(send, codec.encode(hop.message), attributes | extra | hop.attributes)
                hop.sent(sent)
        except AsyncMCPError as exc:
            # The caller hears of it through the error reply; the log line is for long-lived processes.
            logger.info("could not send %s: %s", codec.method_of(message) or "message", exc)
            if rid is not None:
                waiting.discard(rid)
                await read_writer.send(SessionMessage(not_sent.error_reply(rid, exc)))

    async def write_requests(tg: anyio.abc.TaskGroup) -> None:
        # Each send runs as its own task so that concurrent requests share batch calls;
        # they enter the sender in the order the session wrote them.
        async with write_reader:
            async for session_message in write_reader:
                message = session_message.message
                if codec.is_request(message):
                    waiting.add(codec.request_id_of(message))  # type: ignore[arg-type]
                tg.start_soon(send_one, message)

    async def consume(tg: anyio.abc.TaskGroup, received: Received, body: str, attrs: dict[str, str]) -> None:
        sequence = attrs.get(ordering.SEQUENCE)
        if CLAIM_CHECK not in attrs:
            tg.start_soon(_delete, queues, reply_url, received.receipt_handle)
            with tracing.consuming(reply_destination, attrs, received.message_id):
                await in_order.put(sequence, body)
            return
        try:
            body, cleanup = await claim_checks.expand(body, attrs, expect=bound_to)
        except ClaimCheckRefusedError:
            logger.warning("dropping a message for client %s: claim check refused", client_id)
            tg.start_soon(_delete, queues, reply_url, received.receipt_handle)  # its object is left alone
            await _fail_waiting(codec.sniff_request_id(body), read_writer, waiting)
            return
        except AsyncMCPError as exc:  # S3 unreachable: the message reappears after its visibility timeout
            logger.warning("could not fetch the payload of a message for client %s (%s)", client_id, exc)
            return
        try:
            with tracing.consuming(reply_destination, attrs, received.message_id):
                await in_order.put(sequence, body)
        finally:
            # Consumed: settle the message and delete its object now, even if this client is closing,
            # so that neither outlives the reply.
            with anyio.CancelScope(shield=True), anyio.move_on_after(SETTLE_SECONDS):
                await _delete(queues, reply_url, received.receipt_handle, cleanup)

    async def read_handed_over(tg: anyio.abc.TaskGroup, inbox: MemoryObjectReceiveStream[Received]) -> None:
        async for received in inbox:  # replies another client of this process polled for us
            await consume(tg, received, *unwrap(received))

    async def read_replies(tg: anyio.abc.TaskGroup) -> None:
        backoff = 0.5
        async with read_writer, reply_demux.attached(reply_url, client_id) as (shared, inbox):
            tg.start_soon(read_handed_over, tg, inbox)
            while True:
                try:
                    async with shared.slots:
                        began = time.monotonic()
                        batch = await queues.receive(
                            reply_url, wait_seconds=wait_seconds, visibility_timeout=REPLY_VISIBILITY_SECONDS
                        )
                except AsyncMCPError as exc:
                    log = logger.warning if backoff == 0.5 else logger.debug  # once per outage, then detail
                    log("receive from %s failed (%s); retrying in %.1fs", reply_url, exc, backoff)
                    await anyio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                backoff = 0.5
                if len(batch) < MAX_BATCH:  # no backlog behind this read: gaps need not wait for it
                    in_order.caught_up(began)
                for received in batch:
                    body, attrs = unwrap(received)
                    owner = attrs.get(codec.CLIENT_ID)
                    if owner is not None and owner != client_id:
                        if not shared.hand_over(owner, received):
                            tg.start_soon(_leave_or_drop, queues, reply_url, received, attrs)
                        continue
                    await consume(tg, received, body, attrs)

    async with anyio.create_task_group() as tg:
        tg.start_soon(write_requests, tg)
        tg.start_soon(read_replies, tg)
        tg.start_soon(in_order.run)
        try:
            yield read_stream, write_stream
        finally:
            tg.cancel_scope.cancel()
            _close_all(read_writer, read_stream, write_stream, write_reader)


async def _send_with_retry(send: SendRequest, body: str, attributes: dict[str, str]) -> str | None:
    """Send, riding out an unreachable endpoint for up to `SEND_RETRY_SECONDS` with backoff; the message id."""
    delay = 0.2
    deadline = time.monotonic() + SEND_RETRY_SECONDS
    while True:
        try:
            return await send(body, attributes)
        except EndpointUnreachableError as exc:  # failing with HTTP 5xx included: both are transient
            if time.monotonic() + delay > deadline:
                raise
            if delay == 0.2:
                logger.warning("endpoint unreachable (%s); retrying the send for up to %gs", exc, SEND_RETRY_SECONDS)
            logger.debug("retrying the send in %.1fs", delay)
            await anyio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _forward(
    body: str,
    read_writer: MemoryObjectSendStream[SessionMessage | Exception],
    waiting: set[types.RequestId],
) -> None:
    try:
        message = codec.decode(body)
    except codec.DecodeError as exc:
        await read_writer.send(exc)
        return
    if codec.is_reply(message):
        rid = codec.request_id_of(message)
        if rid not in waiting:
            logger.debug("ignoring a response for id %r that this client is not waiting for", rid)
            return
        waiting.discard(rid)  # type: ignore[arg-type]
    await read_writer.send(SessionMessage(message))


async def _fail_waiting(
    rid: types.RequestId | None,
    read_writer: MemoryObjectSendStream[SessionMessage | Exception],
    waiting: set[types.RequestId],
) -> None:
    """A refused reply that names a request this client waits for ends that request with an error,
    not a hang. (Anyone who can write to the reply queue could send that error anyway.)"""
    if rid is None or rid not in waiting:
        return
    waiting.discard(rid)
    error = codec.error_reply(rid, types.INTERNAL_ERROR, f"asyncmcp: {REFUSED}")
    await read_writer.send(SessionMessage(error))


async def _delete(queues: SqsQueues, url: str, receipt: str, cleanup: Cleanup = nothing) -> None:
    try:
        await queues.delete(url, receipt, lazy=True)
    except AsyncMCPError as exc:
        logger.warning("could not delete a consumed reply (%s); it may be seen again and ignored", exc)
    await cleanup()


async def _leave_or_drop(queues: SqsQueues, url: str, received: Received, attrs: dict[str, str]) -> None:
    """Another client's message: delete it once expired (nobody will take it), else hide it for a while."""
    try:
        if reply_expiry.is_expired(attrs):
            logger.debug("deleting an expired message for client %s", attrs.get(codec.CLIENT_ID))
            await queues.delete(url, received.receipt_handle, lazy=True)
        else:
            hide = reply_expiry.hide_seconds(received.receive_count, attrs, sent_at_ms=received.sent_at_ms)
            await queues.change_visibility(url, received.receipt_handle, hide)
    except AsyncMCPError as exc:
        logger.debug("could not leave or drop another client's message (%s)", exc)


def _close_all(
    *streams: MemoryObjectSendStream[SessionMessage | Exception]
    | MemoryObjectReceiveStream[SessionMessage | Exception]
    | MemoryObjectSendStream[SessionMessage]
    | MemoryObjectReceiveStream[SessionMessage],
) -> None:
    for stream in streams:
        stream.close()
