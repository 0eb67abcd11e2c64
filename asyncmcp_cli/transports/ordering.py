"""Per-client message order over channels that keep none.

Standard SQS queues, SNS fan-out and webhook POSTs sent side by side may all
deliver a server's messages out of the order it wrote them. That matters: the
SDK drops a progress notification that arrives after its call's result. So the
server numbers what it writes to each client, and the client puts the numbers
back in order.

- Server side, a `Sequencer` per client session stamps each message with the
  ``asyncmcp-seq`` attribute ``<stream>:<n>``: a random stream id (so several
  workers, or a restarted server, never collide) and n counting from 0. The
  hub starts a new stream whenever a client has no request running, so a
  client that reconnects under a fixed client id finds a stream that starts
  at 0 and waits for nothing.
- Client side, a `Reorder` hands messages on in stream order. A message that
  arrives ahead of its turn is held until the gap fills; then the gap is given
  up (logged at debug) and what is held goes on in order. A number seen again
  (a redelivered message) is dropped; one that arrives after its gap was given
  up is handed on at once.

How long a gap is waited for: `GAP_SECONDS`, but a queue reader that is
behind (its reads still come back full) keeps waiting, up to
`MAX_WAIT_SECONDS`, since the missing message may simply be further back in
the queue. A client reading a deep queue slowly would otherwise give up
gaps that a few more reads would have filled.

A client that meets a stream far past its start (it reconnected under a fixed
client id while a request was running) orders it from there on; a stream it
meets only a little past its start costs one wait.

The attribute is untrusted input. A missing, malformed or absurd value (too
long, too far ahead) is handed on at once, unordered; what is held is bounded
in count (`MAX_HELD`, across all streams), in time (`GAP_SECONDS`) and in
streams tracked (`MAX_STREAMS`), so no message can make a client wait longer
than that or grow without bound.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

logger = logging.getLogger(__name__)

SEQUENCE = "asyncmcp-seq"
"""The message attribute (or webhook header) that carries ``<stream>:<n>``."""

GAP_SECONDS = 2.0
"""How long a message waits for the ones before it once the reader has caught up with its queue
(a few send retries; reordering itself takes milliseconds)."""
MAX_WAIT_SECONDS = 10.0
"""How long a message waits for the ones before it while the reader is still behind."""
MAX_HELD = 256
"""Messages held across all streams; past it, the oldest gap is given up at once."""
MAX_AHEAD = 1024
"""A number further than this past the next expected one is not waited for: it is handed on unordered."""
MAX_STREAMS = 64
"""Streams remembered (least recently used forgotten first, their held messages handed on)."""
MAX_LATE_RANGES = 16
"""Given-up gaps remembered per stream, so a message arriving late is told from a duplicate."""

_SEQUENCE_FORMAT = re.compile(r"([A-Za-z0-9_-]{1,64}):(0|[1-9][0-9]{0,15})")

ItemT = TypeVar("ItemT")


def parse(value: str | None) -> tuple[str, int] | None:
    """(stream, n) of a sequence attribute, or None when it is missing or not one."""
    if value is None:
        return None
    match = _SEQUENCE_FORMAT.fullmatch(value)
    return None if match is None else (match[1], int(match[2]))


class Sequencer:
    """Numbers the messages a server writes to one client (see the module docstring)."""

    def __init__(self) -> None:
        self._stream = ""
        self._next = 0
        self.restart()

    def restart(self) -> None:
        """Begin a new stream at 0: the client needs no earlier message to take the next ones."""
        self._stream = secrets.token_hex(8)
        self._next = 0

    def next(self) -> str:
        value = f"{self._stream}:{self._next}"
        self._next += 1
        return value


@dataclass(eq=False)
class _Stream(Generic[ItemT]):
    expected: int = 0
    fresh: bool = True
    """No message seen on it yet."""
    held: dict[int, tuple[ItemT, float]] = field(default_factory=dict)
    """n -> (message, when it arrived)."""
    late: list[tuple[int, int]] = field(default_factory=list)
    """Given-up gaps [first, end): their numbers, should they arrive, are late, not duplicates."""

    def was_given_up(self, n: int) -> bool:
        return any(first <= n < end for first, end in self.late)

    def give_up(self, first: int, end: int) -> None:
        self.late.append((first, end))
        if len(self.late) > MAX_LATE_RANGES:
            # merge the two oldest: a duplicate in between may then pass as late, but nothing late is dropped
            (a, _), (_, b) = self.late[0], self.late[1]
            self.late[:2] = [(a, b)]

    def oldest_arrival(self) -> float:
        return min(arrived for _, arrived in self.held.values())


class Reorder(Generic[ItemT]):
    """Hands messages to `deliver` in each stream's order (see the module docstring).

    `put` each message with its sequence attribute; run `run()` in a task
    group, which gives up gaps when their wait runs out. With
    `waits_for_backlog`, a gap is waited for up to `max_wait_seconds` until the
    reader reports (`caught_up`) a read that found no backlog.
    """

    def __init__(
        self,
        deliver: Callable[[ItemT], Awaitable[None]],
        *,
        gap_seconds: float = GAP_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        waits_for_backlog: bool = False,
        max_held: int = MAX_HELD,
        max_ahead: int = MAX_AHEAD,
        max_streams: int = MAX_STREAMS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._deliver = deliver
        self._gap_seconds = gap_seconds
        self._max_wait_seconds = max_wait_seconds
        self._caught_up_since = -math.inf if waits_for_backlog else math.inf
        self._max_held = max_held
        self._max_ahead = max_ahead
        self._max_streams = max_streams
        self._clock = clock
        self._streams: OrderedDict[str, _Stream[ItemT]] = OrderedDict()
        self._held = 0
        self._lock = anyio.Lock()
        self._changed = anyio.Event()

    @property
    def held(self) -> int:
        return self._held

    async def put(self, sequence: str | None, item: ItemT) -> None:
        """Hand `item` on now, hold it until its turn, or drop it as a duplicate."""
        parsed = parse(sequence)
        async with self._lock:
            if parsed is None:
                if sequence is not None:
                    logger.debug("unreadable sequence %.80r: message handed on unordered", sequence)
                await self._deliver(item)
                return
            stream_id, n = parsed
            stream = await self._stream(stream_id)
            if stream.fresh and n - stream.expected > self._max_ahead:
                stream.give_up(stream.expected, n)  # this client joined a long stream late: order it from here on
                stream.expected = n
            stream.fresh = False
            if n < stream.expected:
                if stream.was_given_up(n):
                    logger.debug("message %s arrived after its gap was given up; handed on", sequence)
                    await self._deliver(item)
                else:
                    logger.debug("dropping message %s: already handed on (a redelivery)", sequence)
                return
            if n in stream.held:
                logger.debug("dropping message %s: already waiting for its turn (a redelivery)", sequence)
                return
            if n - stream.expected > self._max_ahead:
                logger.debug(
                    "message %s is too far past %d to wait for; handed on unordered", sequence, stream.expected
                )
                await self._deliver(item)
                return
            stream.held[n] = (item, self._clock())
            self._held += 1
            await self._release_ready(stream)
            while self._held > self._max_held:
                await self._give_up_gap(min(self._holding(), key=_Stream.oldest_arrival))
            if stream.held:
                self._changed.set()  # run() may have a nearer deadline to keep

    def caught_up(self, since: float) -> None:
        """The reader found no backlog in a read it began at `since` (by this buffer's clock)."""
        self._caught_up_since = max(self._caught_up_since, since)
        if self._held:
            self._changed.set()

    async def run(self) -> None:
        """Give up each gap whose oldest held message has waited long enough (see the module docstring)."""
        while True:
            deadline = min((self._deadline(s) for s in self._holding()), default=None)
            if deadline is None:
                await self._changed.wait()
            else:
                with anyio.move_on_after(deadline - self._clock()):
                    await self._changed.wait()
            self._changed = anyio.Event()
            await self.give_up_expired()

    async def give_up_expired(self) -> None:
        """Give up every gap whose wait has run out by now (what `run()` does at each deadline)."""
        async with self._lock:
            now = self._clock()
            for stream in self._holding():
                while stream.held and self._deadline(stream) <= now:
                    await self._give_up_gap(stream)

    def _deadline(self, stream: _Stream[ItemT]) -> float:
        arrived = stream.oldest_arrival()
        if self._caught_up_since > arrived:  # a read begun since found no backlog: the gap is no deeper in the queue
            return arrived + self._gap_seconds
        return arrived + self._max_wait_seconds

    def _holding(self) -> list[_Stream[ItemT]]:
        return [stream for stream in self._streams.values() if stream.held]

    async def _stream(self, stream_id: str) -> _Stream[ItemT]:
        stream = self._streams.get(stream_id)
        if stream is not None:
            self._streams.move_to_end(stream_id)
            return stream
        stream = self._streams[stream_id] = _Stream()
        while len(self._streams) > self._max_streams:
            _, forgotten = self._streams.popitem(last=False)
            while forgotten.held:
                await self._give_up_gap(forgotten)
        return stream

    async def _give_up_gap(self, stream: _Stream[ItemT]) -> None:
        """Stop waiting for the numbers before the first held one; hand on what is then in order."""
        first = min(stream.held)
        logger.debug("gave up waiting for messages %d..%d; handing on the ones after them", stream.expected, first - 1)
        stream.give_up(stream.expected, first)
        stream.expected = first
        await self._release_ready(stream)

    async def _release_ready(self, stream: _Stream[ItemT]) -> None:
        while stream.expected in stream.held:
            item, _ = stream.held.pop(stream.expected)
            self._held -= 1
            stream.expected += 1
            await self._deliver(item)
