"""A tap: a copy of every message a server or client sends, published to one SNS topic for `tail`.

SQS has no true peek: receiving a message, even with visibility 0, hides it
from its consumer for a moment and raises its receive count. So `tail
--follow` does not read the live queues; it reads copies. A peer configured
with a tap topic (option ``tap``, filled in from a profile made by
``asyncmcp provision --tap``) publishes, after each successful send, the same
body and attributes plus two of its own:

- ``asyncmcp-tap-to``: the queue URL or topic ARN the original went to;
- ``asyncmcp-tap-sent-at``: when it was sent (milliseconds since the epoch).

The tap is best-effort and off the critical path: `Tap.copy` never waits and
never raises. Copies are queued in memory (at most `BUFFER`; beyond that they
are dropped) and published in ``PublishBatch`` calls by a background task. A
failing tap is logged once per process, at warning; the real traffic is not
affected either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from asyncmcp_cli import aws
from asyncmcp_cli.aws.sns_topics import SnsTopics, topic_name_of
from asyncmcp_cli.errors import AsyncMCPError

logger = logging.getLogger(__name__)

TO = "asyncmcp-tap-to"
SENT_AT = "asyncmcp-tap-sent-at"
BUFFER = 1000
"""Copies waiting to be published; more than this and new copies are dropped (and that is logged once)."""
CONCURRENT_PUBLISHES = 32
FLUSH_SECONDS = 2.0
"""On shutdown, how long copies still waiting get to be published."""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class _Copy:
    body: str
    attributes: dict[str, str]


class Tap:
    """Hands copies of sent messages to the tap topic's publisher. Get one from `tapping`."""

    def __init__(self, topic: str | None = None, sink: MemoryObjectSendStream[_Copy] | None = None) -> None:
        self.topic = topic
        self._sink = sink
        self._complained = False

    @property
    def enabled(self) -> bool:
        return self._sink is not None

    def copy(self, to: str, body: str, attributes: dict[str, str], *, sent_at_ms: int) -> None:
        """Queue a copy of a message just sent to `to` (a queue URL or topic ARN). Never waits, never raises."""
        if self._sink is None:
            return
        extra = {TO: to, SENT_AT: str(sent_at_ms)}
        try:
            self._sink.send_nowait(_Copy(body, dict(attributes) | extra))
        except anyio.WouldBlock:
            self.complain(f"{BUFFER} copies are waiting to be published; dropping copies until it catches up")
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # shutting down

    def complain(self, why: str) -> None:
        """Log a tap problem once per process (then at debug): a tap never gets in the traffic's way."""
        if self._complained:
            logger.debug("tap %s: %s", self.topic, why)
            return
        self._complained = True
        logger.warning(
            "tap %s: %s; the traffic itself is unaffected (further tap problems are logged at debug level)",
            topic_name_of(self.topic or ""),
            why,
        )


NO_TAP = Tap()


@asynccontextmanager
async def tapping(settings: aws.AwsSettings, topic: str | None) -> AsyncIterator[Tap]:
    """A `Tap` publishing to `topic` (a name or ARN) while the block runs; a no-op tap when `topic` is empty."""
    if not topic:
        yield NO_TAP
        return
    topics = SnsTopics(settings)
    sink, source = anyio.create_memory_object_stream[_Copy](BUFFER)
    tap = Tap(topic, sink)
    drained = anyio.Event()
    async with topics.running(), anyio.create_task_group() as tg:
        tg.start_soon(_publish_all, topics, tap, source, drained)
        try:
            yield tap
        finally:
            sink.close()
            with anyio.CancelScope(shield=True), anyio.move_on_after(FLUSH_SECONDS):
                await drained.wait()
            tg.cancel_scope.cancel()


async def _publish_all(
    topics: SnsTopics, tap: Tap, source: MemoryObjectReceiveStream[_Copy], drained: anyio.Event
) -> None:
    try:
        arn = await topics.arn_for(tap.topic or "")
    except AsyncMCPError as exc:
        tap.complain(f"cannot resolve the topic ({exc})")
        arn = tap.topic or ""
    slots = anyio.Semaphore(CONCURRENT_PUBLISHES)
    try:
        async with source, anyio.create_task_group() as tg:
            async for item in source:
                await slots.acquire()
                tg.start_soon(_publish_one, topics, tap, arn, item, slots)
    finally:
        drained.set()


async def _publish_one(topics: SnsTopics, tap: Tap, arn: str, item: _Copy, slots: anyio.Semaphore) -> None:
    try:
        await topics.publish(arn, item.body, item.attributes)
    except AsyncMCPError as exc:
        tap.complain(f"could not publish a copy ({exc})")
    finally:
        slots.release()
