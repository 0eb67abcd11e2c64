"""Fire now, collect later: send a request without waiting, read its answer from the reply queue afterwards.

The point of an asynchronous transport is that a client need not stay
connected. `fire` puts one request on the request queue (``sqs``) or
publishes it to the request topic (``sns+sqs``) and returns a `Receipt`; the
server may not even be running yet. `collect` reads the reply
queue, from any process or machine that can reach it, for the answer that
receipt names.

The request is the one the SDK's own client would send in the stateless era
(2026-07-28): it is built by `mcp.Client` itself, over a stream pair that
captures the message instead of sending it, so the ``_meta`` envelope
(protocol version, client info, capabilities) is the SDK's, not a copy. Only
its JSON-RPC id is replaced, by a random one, so that several requests fired
under one client id never collide.

A reply queue may be shared. `collect` takes only messages for its client id
(and request id); every other message it meets while scanning is held for at
most one scan and then made visible again at once, for its own client, unless
it is past its expiry: then it is deleted (`reply_expiry`). A fired request
declares how long its answer should wait (`keep_for`, a day by default); the
receipt records it, so a collect that finds nothing long after can say that
the answer may have expired.
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from mcp import Client
from mcp.shared.message import SessionMessage

from asyncmcp_cli import aws
from asyncmcp_cli.aws import sns_envelope
from asyncmcp_cli.aws.payloads import CLAIM_CHECK, TO_CLIENT, TO_SERVER, Binding, ClaimCheck, nothing
from asyncmcp_cli.aws.sns_topics import SnsTopics
from asyncmcp_cli.aws.sqs_queues import Received, SqsQueues
from asyncmcp_cli.client import ERAS
from asyncmcp_cli.delivery import reply_expiry
from asyncmcp_cli.delivery.receipts import Receipt
from asyncmcp_cli.errors import AsyncMCPError, ConfigurationError, TransportError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.tap import now_ms, tapping
from asyncmcp_cli.targets import CLIENT_INFO
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.queue_client import new_client_id
from asyncmcp_cli.transports.queue_listener import plain
from asyncmcp_cli.transports.sns import check_reply_route
from asyncmcp_cli.types import TransportStreams

logger = logging.getLogger(__name__)

HOLD_SECONDS = 10
"""Another client's message stays hidden from it at most this long while a scan passes over it."""

SCAN_POLL_SECONDS = 1
"""Long-poll length of one scan step; a scan ends at the first step that finds nothing."""

MAX_SCAN = 2000
"""Messages one scan looks at before it gives up on finding the answer this time."""

Ask = Callable[[Client], Awaitable[Any]]
"""What to ask, as a call on an SDK client: ``lambda c: c.call_tool("add", {"a": 1, "b": 2})``."""


@dataclass
class Reply:
    """An answer found on the reply queue."""

    receipt: Receipt
    message: types.JSONRPCResponse | types.JSONRPCError
    sent_at_ms: int | None = None

    @property
    def request_id(self) -> types.RequestId | None:
        return self.message.id

    @property
    def error(self) -> types.ErrorData | None:
        return self.message.error if isinstance(self.message, types.JSONRPCError) else None

    @property
    def result(self) -> dict[str, Any]:
        return self.message.result if isinstance(self.message, types.JSONRPCResponse) else {}


@dataclass
class Collected:
    """What one `collect` found: the answers (none yet when empty) and notifications for the client."""

    replies: list[Reply] = field(default_factory=list)
    notifications: list[types.JSONRPCNotification] = field(default_factory=list)
    expired: bool = False
    """Nothing found, and the receipt's keep time has run out since it was sent: if the
    request was answered, its answer has expired (or the server never answered it)."""


# -- firing -------------------------------------------------------------------


async def fire(
    transport: Transport,
    ask: Ask,
    *,
    client_id: str | None = None,
    name: str | None = None,
    keep_for: float = reply_expiry.DEFAULT_KEEP_SECONDS,
) -> Receipt:
    """Send the request `ask` makes over `transport` without waiting for its answer.

    Its answer waits `keep_for` seconds on the reply queue once sent (within the
    server's ceiling, a day unless its operator changed it)."""
    channel = _channel(transport)
    request = await sdk_request(ask)
    request = request.model_copy(update={"id": uuid.uuid4().hex[:16]})
    client_id = channel.client_id_for(client_id)
    body = codec.encode(request)

    async def routed(reply_address: str) -> tuple[str, dict[str, str]]:
        """The message to send: the request, or a claim check bound to this client and reply address."""
        attributes = {
            codec.CLIENT_ID: client_id,
            codec.REPLY_TO: reply_address,
            codec.METHOD: request.method,
            reply_expiry.REPLY_TTL: reply_expiry.declare(keep_for),
        }
        return await channel.claims.shrink(body, attributes, bound_to=Binding(TO_SERVER, client_id, reply_address))

    queues = SqsQueues(channel.aws)
    async with queues.running(), tapping(channel.aws, channel.tap) as tap:
        if channel.request_topic is None:
            request_address = await queues.url_for(channel.request_queue)
            reply_url = await queues.url_for(channel.reply_queue, create=channel.create_reply_queue)
            body_sent, attributes = await routed(reply_url)
            sent_at = now_ms()
            await queues.send(request_address, body_sent, attributes)
        else:
            topics = SnsTopics(channel.aws)
            async with topics.running():
                request_address = await topics.arn_for(channel.request_topic, check=True)
                reply_topic = await topics.arn_for(channel.reply_topic)
                reply_url = await queues.url_for(channel.reply_queue)
                if channel.check_route:
                    await check_reply_route(topics, reply_topic, reply_url, client_id)
                body_sent, attributes = await routed(reply_topic)
                sent_at = now_ms()
                await topics.publish(request_address, body_sent, attributes, group_id=client_id)
        tap.copy(request_address, body_sent, attributes, sent_at_ms=sent_at)
    return Receipt(
        transport=transport.scheme,
        reply_queue=reply_url,
        client_id=client_id,
        request_id=request.id,
        method=request.method,
        name=name,
        request_queue=request_address,
        endpoint=channel.aws.resolved_endpoint,
        region=channel.aws.resolved_region,
        sent_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        keep_for=int(reply_expiry.declare(keep_for)),
    )


async def sdk_request(ask: Ask) -> types.JSONRPCRequest:
    """The request the SDK's client writes for `ask`, in the stateless era, captured instead of sent."""
    capture = _Capture()
    client = Client(capture.streams(), mode=ERAS["stateless"], cache=None, client_info=CLIENT_INFO)
    async with client, anyio.create_task_group() as tg:

        async def ask_and_forget() -> None:
            await ask(client)

        tg.start_soon(ask_and_forget)
        request = await capture.first_request()
        tg.cancel_scope.cancel()  # the SDK's courtesy cancellation goes into the capture and is dropped
    return request


class _Capture:
    """A stream pair for `mcp.Client` that keeps what the client writes and never answers."""

    def __init__(self) -> None:
        self._requests, self._written = anyio.create_memory_object_stream[types.JSONRPCRequest](1)

    @asynccontextmanager
    async def streams(self) -> AsyncIterator[TransportStreams]:
        to_client, from_server = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        to_server, from_client = anyio.create_memory_object_stream[SessionMessage](0)

        async def keep() -> None:
            async for session_message in from_client:
                if isinstance(session_message.message, types.JSONRPCRequest):
                    self._requests.send_nowait(session_message.message)
                # anything after the first request (the courtesy cancel) is dropped

        async with anyio.create_task_group() as tg:
            tg.start_soon(keep)
            try:
                yield from_server, to_server
            finally:
                tg.cancel_scope.cancel()
                for stream in (to_client, from_server, to_server, from_client, self._requests):
                    stream.close()

    async def first_request(self) -> types.JSONRPCRequest:
        with self._written:
            return await self._written.receive()


# -- collecting ---------------------------------------------------------------


async def collect(
    receipt: Receipt, *, wait: float = 0.0, keep: bool = False, payload_bucket: str | None = None
) -> Collected:
    """Read the reply queue for `receipt`'s answer, waiting up to `wait` seconds for it.

    An answer found is deleted from the queue (``keep`` leaves it for another
    collect). With a receipt that names no request id, every answer for the
    client id that is there now is taken. Notifications addressed to the client
    id are consumed and returned alongside.

    A large answer (a claim check) is read from `payload_bucket` only (at the
    receipt's endpoint; a receipt never names a bucket: it is not trusted), and
    only when its object is bound to the receipt's client id; its object is deleted
    with the answer (``keep`` keeps both). Without a bucket, such an answer is left
    on the queue with a warning.
    """
    if receipt.transport not in COLLECTABLE:
        raise ConfigurationError(
            f"collecting from a {receipt.transport!r} receipt is not supported (only {', '.join(COLLECTABLE)})"
        )
    settings = aws.AwsSettings(endpoint_url=receipt.endpoint, region=receipt.region)
    queues = SqsQueues(settings)
    collected = Collected()
    async with queues.running():
        url = await queues.url_for(receipt.reply_queue)
        # An sqs answer's object is bound to the reply queue too; a receipt names no sns reply topic.
        reply_to = url if receipt.transport == "sqs" else None
        expect = Binding(TO_CLIENT, receipt.client_id, reply_to)
        source = _ReplyQueue(queues, url, ClaimCheck(settings, payload_bucket), expect)
        deadline = anyio.current_time() + max(0.0, wait)
        while True:
            await _scan(source, receipt, collected, keep=keep)
            if collected.replies or anyio.current_time() >= deadline:
                collected.expired = not collected.replies and _past_keep_time(receipt)
                return collected


def _past_keep_time(receipt: Receipt, now: float | None = None) -> bool:
    """Whether the keep time has run out even for an answer sent the moment the request was."""
    if receipt.keep_for is None or receipt.sent_at is None:
        return False
    try:
        sent = datetime.datetime.fromisoformat(receipt.sent_at).timestamp()
    except (TypeError, ValueError):
        return False
    return (time.time() if now is None else now) > sent + receipt.keep_for


@dataclass(frozen=True)
class _ReplyQueue:
    """The queue `collect` reads, and how it reads the claim checks on it."""

    queues: SqsQueues
    url: str
    claims: ClaimCheck
    expect: Binding


async def _scan(source: _ReplyQueue, receipt: Receipt, collected: Collected, *, keep: bool) -> None:
    """One pass over the queue: take what is ours; hold the rest until the pass ends, then hand it back."""
    queues, url = source.queues, source.url
    held: list[str] = []
    seen = 0
    wanted = None if receipt.request_id is None else str(receipt.request_id)
    try:
        while seen < MAX_SCAN:
            batch = await queues.receive(url, wait_seconds=SCAN_POLL_SECONDS, visibility_timeout=HOLD_SECONDS)
            if not batch:
                return
            seen += len(batch)
            for received in batch:
                taken = await _take(source, received, receipt, wanted, collected, keep=keep)
                if not taken:
                    held.append(received.receipt_handle)
            if wanted is not None and collected.replies:
                return
        logger.info("looked at %d messages on %s without finding the answer; stopping this pass", seen, url)
    finally:
        with anyio.CancelScope(shield=True):
            await _hand_back(queues, url, held)


async def _take(
    source: _ReplyQueue,
    received: Received,
    receipt: Receipt,
    wanted: str | None,
    collected: Collected,
    *,
    keep: bool,
) -> bool:
    """Keep `received` if it is ours; False when it belongs to someone else (or cannot be read now)."""
    queues, url = source.queues, source.url
    body, attributes = COLLECTABLE[receipt.transport](received)
    if attributes.get(codec.CLIENT_ID) != receipt.client_id:
        if not reply_expiry.is_expired(attributes):
            return False
        await queues.delete(url, received.receipt_handle)  # another client's, expired: nobody will take it
        return True
    cleanup = nothing
    if CLAIM_CHECK in attributes:
        if wanted is not None and str(codec.sniff_request_id(body)) != wanted:
            return False  # not the answer wanted (the stub names its id): not worth fetching
        try:
            body, cleanup = await source.claims.expand(body, attributes, expect=source.expect)
        except AsyncMCPError as exc:  # refused, or S3 unreachable: left where it is, with its object
            logger.warning("leaving a message for client %s on the queue: %s", receipt.client_id, exc)
            return False
    try:
        message = codec.decode(body)
    except codec.DecodeError:
        return False
    if isinstance(message, types.JSONRPCNotification):
        collected.notifications.append(message)
        await queues.delete(url, received.receipt_handle)
        await cleanup()
        return True
    if not isinstance(message, (types.JSONRPCResponse, types.JSONRPCError)):
        return False
    if wanted is not None and str(message.id) != wanted:
        return False  # another request of the same client: left for its own collect
    duplicate = any(str(reply.request_id) == str(message.id) for reply in collected.replies)
    if not duplicate:
        collected.replies.append(Reply(receipt, message, received.sent_at_ms))
    if keep and not duplicate:
        await queues.change_visibility(url, received.receipt_handle, 0)  # its object stays for the next collect
    else:
        await queues.delete(url, received.receipt_handle)  # taken, or an at-least-once duplicate of it
        await cleanup()
    return True


async def _hand_back(queues: SqsQueues, url: str, receipts: list[str]) -> None:
    async with anyio.create_task_group() as tg:
        for handle in receipts:
            tg.start_soon(_make_visible, queues, url, handle)


async def _make_visible(queues: SqsQueues, url: str, handle: str) -> None:
    try:
        await queues.change_visibility(url, handle, 0)
    except TransportError as exc:
        logger.debug("could not hand a message back at once (%s); it reappears in %ss", exc, HOLD_SECONDS)


# -- channels -----------------------------------------------------------------


COLLECTABLE = {"sqs": plain, "sns+sqs": sns_envelope.unwrap}
"""Transports whose answers wait on a queue, and how to read a message of each."""


@dataclass(frozen=True)
class _Channel:
    """Where a fired request goes (a queue or a topic) and the queue its answer reaches."""

    aws: aws.AwsSettings
    reply_queue: str
    request_queue: str = ""
    create_reply_queue: bool = False
    request_topic: str | None = None
    reply_topic: str = ""
    client_id_for: Callable[[str | None], str] = field(default=lambda explicit: explicit or new_client_id())
    """The client id to send under, given the one the caller asked for (if any)."""
    check_route: bool = True
    tap: str | None = None
    claims: ClaimCheck = field(default_factory=ClaimCheck)
    """Where a request too large for a message goes (the transport's payload bucket, if any)."""


def _channel(transport: Transport) -> _Channel:
    from asyncmcp_cli.transports.sns import SnsSqsTransport
    from asyncmcp_cli.transports.sqs import SqsTransport

    if isinstance(transport, SqsTransport):
        o = transport.options
        return _Channel(
            o.aws, o.reply_queue, o.request_queue, create_reply_queue=o.create_reply_queue, tap=o.tap, claims=o.claims
        )
    if isinstance(transport, SnsSqsTransport):
        s = transport.options
        return _Channel(
            s.aws,
            s.reply_queue,
            request_topic=s.request_topic,
            reply_topic=s.reply_topic,
            client_id_for=transport.client_id_for,
            check_route=s.check_route,
            tap=s.tap,
            claims=s.claims,
        )
    raise ConfigurationError(
        f"fire-and-collect needs a queue transport ({', '.join(COLLECTABLE)}), not {transport.scheme!r}: "
        "other transports answer only while the client is connected"
    )
