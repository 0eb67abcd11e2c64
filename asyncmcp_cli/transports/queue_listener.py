"""The server side of a queue-backed transport: poll, track, heartbeat, drain.

Shared by the SQS and SNS+SQS transports; they differ only in how a received
message is unwrapped (`Unwrap`) and how replies are sent (the hub's sender).

- Receives up to ten messages per long poll, never more than `max_in_flight`
  unsettled at once (backpressure instead of an unbounded buffer).
- Keeps each unsettled message invisible while its request runs (a visibility
  heartbeat), so a long tool call is not handed to a second worker.
- On `drain`, stops polling, waits for running requests, and gives back the
  rest for redelivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc
import anyio.to_thread

from asyncmcp_cli.aws import long_polls
from asyncmcp_cli.aws.payloads import ClaimCheck
from asyncmcp_cli.aws.sqs_queues import Received, SqsQueues
from asyncmcp_cli.delivery.results import DEFAULT_TTL_SECONDS, open_result_store
from asyncmcp_cli.errors import AsyncMCPError, EndpointUnreachableError
from asyncmcp_cli.observability import recorder
from asyncmcp_cli.transports.base import Connection
from asyncmcp_cli.transports.hub import ReplySender, SessionHub
from asyncmcp_cli.transports.intake import copy_to_dead_letters, open_message

logger = logging.getLogger(__name__)

Unwrap = Callable[[Received], tuple[str, dict[str, str]]]
"""(body, attributes) of the MCP message a queue message carries."""


def plain(received: Received) -> tuple[str, dict[str, str]]:
    return received.body, received.attributes


@dataclass
class PollSettings:
    visibility_timeout: int = 30
    wait_seconds: int = 20
    max_in_flight: int = 64
    idle_session_timeout: float = 3600.0
    result_cache: str = "memory"
    result_ttl: float = DEFAULT_TTL_SECONDS
    dead_letter_queue: str | None = None
    max_receive_count: int = 5


@asynccontextmanager
async def listening(
    queues: SqsQueues,
    request_url: str,
    send_reply: ReplySender,
    *,
    admits: Callable[[str], bool],
    settings: PollSettings,
    unwrap: Unwrap = plain,
    claims: ClaimCheck | None = None,
    bind_sender: bool = True,
) -> AsyncIterator[QueueListener]:
    """Serve one request queue: hub, poller, heartbeat, result cache and dead letters, wired together.

    The dead-letter queue is the one the queue's redrive policy names (its
    maxReceiveCount wins too), else `settings.dead_letter_queue`. With
    `bind_sender`, each client's session is also bound to the SQS SenderId of
    the message that opened it (leave it off where SNS delivers the messages:
    their SenderId is the topic's, the same for every client).
    """
    redrive_url, redrive_max = await queues.redrive_target(request_url)
    dead_letter_url = redrive_url
    if settings.dead_letter_queue:
        dead_letter_url = await queues.url_for(settings.dead_letter_queue)
    if dead_letter_url is None:
        logger.info("no dead-letter queue for %s: a message that cannot be served is logged and dropped", request_url)
    hub = SessionHub(
        send_reply,
        admits=admits,
        idle_timeout=settings.idle_session_timeout,
        results=open_result_store(settings.result_cache, settings.result_ttl, queues.settings),
        max_receives=redrive_max or settings.max_receive_count,
    )
    async with hub.running():
        listener = QueueListener(
            queues,
            request_url,
            hub,
            settings=settings,
            unwrap=unwrap,
            dead_letter_url=dead_letter_url,
            claims=claims,
            bind_sender=bind_sender,
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.run)
            try:
                yield listener
            finally:
                tg.cancel_scope.cancel()


@dataclass(eq=False)
class _Tracked:
    received: Received
    invisible_until: float


class QueueListener:
    """Feeds one request queue into a `SessionHub`. Run `run()` in a task group."""

    def __init__(
        self,
        queues: SqsQueues,
        queue_url: str,
        hub: SessionHub,
        *,
        settings: PollSettings,
        unwrap: Unwrap = plain,
        dead_letter_url: str | None = None,
        claims: ClaimCheck | None = None,
        bind_sender: bool = True,
    ) -> None:
        self._queues = queues
        self._url = queue_url
        self._hub = hub
        self._settings = settings
        self._unwrap = unwrap
        self._dead_letter_url = dead_letter_url
        self._claims = claims or ClaimCheck()  # without a bucket, every claim check is refused
        self._bind_sender = bind_sender
        self._tracked: dict[str, _Tracked] = {}
        self._room = anyio.Event()
        self._poll_scope = anyio.CancelScope()

    def __aiter__(self) -> AsyncIterator[Connection]:
        return self._hub.__aiter__()

    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._heartbeat)
            with self._poll_scope:
                await self._poll()
            tg.cancel_scope.cancel()

    async def drain(self, grace_seconds: float) -> int:
        recorder.current().intake.stopped()
        self._poll_scope.cancel()
        # Let the cancelled long poll return and give back what it received, rather than
        # leaving it to hide messages for a visibility timeout after this process exits.
        await anyio.to_thread.run_sync(long_polls.join_abandoned, min(2.0, grace_seconds))
        return await self._hub.drain(grace_seconds)

    # -- polling ------------------------------------------------------------

    async def _poll(self) -> None:
        backoff = 0.5
        while True:
            while len(self._tracked) >= self._settings.max_in_flight:
                self._room = anyio.Event()
                await self._room.wait()
            intake = recorder.current().intake
            intake.polling(self._settings.wait_seconds)
            try:
                batch = await self._queues.receive(
                    self._url,
                    max_messages=self._settings.max_in_flight - len(self._tracked),
                    wait_seconds=self._settings.wait_seconds,
                    visibility_timeout=self._settings.visibility_timeout,
                )
            except AsyncMCPError as exc:
                intake.failed(str(exc))
                logger.warning(
                    "receive from %s failed (%s); retrying in %.1fs",
                    self._url,
                    exc,
                    backoff,
                    extra={"queue": self._url},
                )
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            intake.received()
            for received in batch:
                await self._accept(received)

    async def _accept(self, received: Received) -> None:
        if received.sent_at_ms is not None:
            recorder.current().queue_age(time.time() - received.sent_at_ms / 1000)
        deadline = time.monotonic() + self._settings.visibility_timeout
        self._tracked[received.receipt_handle] = _Tracked(received, deadline)
        body, attributes = self._unwrap(received)
        try:
            opened = await open_message(body, attributes, self._claims, received=received)
        except EndpointUnreachableError as exc:
            # Our own S3 is down, which says nothing about the message: it reappears after its
            # visibility timeout (and the queue's redrive policy bounds how often).
            logger.warning(
                "could not fetch the payload of message %s (%s); leaving it for redelivery", received.message_id, exc
            )
            self._untrack(received)
            return

        async def ack() -> None:
            self._untrack(received)
            await self._queues.delete(self._url, received.receipt_handle, lazy=True)
            await opened.cleanup()

        async def release() -> None:
            self._untrack(received)
            await self._queues.change_visibility(self._url, received.receipt_handle, 0)

        async def reject() -> None:
            await copy_to_dead_letters(self._queues, received, self._dead_letter_url)
            await ack()

        await self._hub.deliver(
            opened.inbound(
                ack=ack,
                release=release,
                reject=reject,
                delivery_id=received.message_id or None,
                receive_count=received.receive_count,
                sender=received.sender_id if self._bind_sender else None,
            )
        )

    def _untrack(self, received: Received) -> None:
        self._tracked.pop(received.receipt_handle, None)
        self._room.set()

    # -- visibility heartbeat -----------------------------------------------

    async def _heartbeat(self) -> None:
        timeout = self._settings.visibility_timeout
        period = max(1.0, timeout / 3)
        while True:
            await anyio.sleep(period)
            now = time.monotonic()
            due = [t for t in self._tracked.values() if t.invisible_until - now < timeout / 2]
            async with anyio.create_task_group() as tg:
                for tracked in due:
                    tg.start_soon(self._extend, tracked)

    async def _extend(self, tracked: _Tracked) -> None:
        timeout = self._settings.visibility_timeout
        receipt = tracked.received.receipt_handle
        try:
            await self._queues.change_visibility(self._url, receipt, timeout)
        except AsyncMCPError as exc:
            logger.warning("could not extend visibility of a running request (%s)", exc)
            return
        if receipt in self._tracked:
            tracked.invisible_until = time.monotonic() + timeout
