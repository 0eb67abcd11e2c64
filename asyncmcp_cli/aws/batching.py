"""Coalesce concurrent single-item calls into batch API calls.

SQS charges (and rate-limits) per request, and its batch operations take up to
ten entries. A `Batcher` lets each caller await its own item while the worker
sends whatever is waiting in one request. By default it adds no delay: a lone
item is sent at once; items only group up while earlier batches are still in
flight. With a `linger`, a batch waits up to that long to fill: for work off
the critical path (deleting handled messages), where fewer requests matter
more than a few milliseconds, and where each extra request would compete with
the ones a caller is waiting for.

With a `busy_linger`, the delay adapts to the load: an item that arrives
within `busy_linger` of the one before it (many are coming: a burst of
replies, a client with many calls in flight) waits up to that long for the
batch to fill, while an item after a quiet spell (a lone message, calls one
at a time) is sent at once. Under load, calls then travel in groups of up to
ten, and the groups hold together stage after stage, so a few milliseconds
per stage buy several-fold fewer requests.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio
import anyio.abc

from asyncmcp_cli._groups import single_errors
from asyncmcp_cli.errors import TransportError

company_expected: ContextVar[bool] = ContextVar("company_expected", default=False)
"""Set (in the caller's task) while more items are known to follow soon: they may wait to share a batch."""

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

FINISH_SECONDS = 5.0
"""On shutdown, how long lingering items get to be sent before they are given up."""

Flush = Callable[[Sequence[ItemT]], Awaitable[Sequence["ResultT | Exception"]]]


@dataclass(eq=False)
class _Slot(Generic[ItemT]):
    item: ItemT
    weight: int
    busy: bool = False
    """It arrived close behind another: it may wait for its batch to fill."""
    done: anyio.Event = field(default_factory=anyio.Event)
    result: Any = None
    error: BaseException | None = None


class Batcher(Generic[ItemT, ResultT]):
    """Send items through `flush` in batches of at most `size` items and `max_weight`.

    `flush` returns one result or exception per item, in order. Up to
    `concurrency` batches are in flight at once. A batch that is not full
    waits up to `linger` seconds for more items; with `busy_linger`, one that
    arrived within that long of the item before it waits up to that long (see
    the module docstring). Run `run()` in a task group; `finish()` sends what
    is waiting without lingering.
    """

    def __init__(
        self,
        flush: Flush[ItemT, ResultT],
        *,
        size: int = 10,
        max_weight: float = math.inf,
        weigh: Callable[[ItemT], int] = lambda _: 0,
        concurrency: int = 2,
        linger: float = 0.0,
        busy_linger: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._flush = flush
        self._linger = linger
        self._busy_linger = busy_linger
        self._clock = clock
        self._last_arrival = -math.inf
        self._finishing = False
        self._size = size
        self._max_weight = max_weight
        self._weigh = weigh
        self._pending: deque[_Slot[ItemT]] = deque()
        self._wakeup = anyio.Event()
        self._slots = anyio.Semaphore(concurrency)
        self._unsettled: set[_Slot[ItemT]] = set()
        self._closed = False

    async def submit(self, item: ItemT) -> ResultT:
        if self._closed:
            raise TransportError("the sender is closed")
        slot = _Slot(
            item, self._weigh(item), busy=self._arrived() or (self._busy_linger > 0 and company_expected.get())
        )
        self._unsettled.add(slot)
        if not slot.busy and self._can_send_now():
            await self._send([slot])  # nothing to wait for: skip the hand-over to run()
        else:
            self._pending.append(slot)
            self._wakeup.set()
            await slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.result

    async def run(self) -> None:
        try:
            async with anyio.create_task_group() as tg:
                while True:
                    await self._slots.acquire()
                    while not self._pending:
                        await self._wait_for_items()
                    linger = self._linger or (self._busy_linger if self._pending[0].busy else 0.0)
                    if linger and not self._finishing:
                        with anyio.move_on_after(linger):
                            while len(self._pending) < self._size and not self._finishing:
                                await self._wait_for_items()
                    tg.start_soon(self._send, self._take_batch())
        finally:
            self._closed = True
            for slot in self._pending:
                self._settle(slot, TransportError("the sender closed before this message was sent"))
            self._pending.clear()

    def _arrived(self) -> bool:
        """Note an arrival; True if it came within `busy_linger` of the one before (a busy spell)."""
        now = self._clock()
        busy = now - self._last_arrival < self._busy_linger
        self._last_arrival = now
        return busy

    def _can_send_now(self) -> bool:
        if self._linger or self._pending:
            return False
        try:
            self._slots.acquire_nowait()
        except anyio.WouldBlock:
            return False
        return True

    def finish(self) -> None:
        """Stop lingering: send whatever is waiting now (on shutdown)."""
        self._finishing = True
        self._wakeup.set()

    async def settled(self) -> None:
        """Wait until every item submitted so far has been sent (or has failed)."""
        while self._unsettled:
            await next(iter(self._unsettled)).done.wait()

    def _settle(self, slot: _Slot[ItemT], outcome: Any) -> None:
        if isinstance(outcome, BaseException):
            slot.error = outcome
        else:
            slot.result = outcome
        slot.done.set()
        self._unsettled.discard(slot)

    async def _wait_for_items(self) -> None:
        await self._wakeup.wait()
        self._wakeup = anyio.Event()

    def _take_batch(self) -> list[_Slot[ItemT]]:
        batch = [self._pending.popleft()]
        weight = batch[0].weight
        while self._pending and len(batch) < self._size and weight + self._pending[0].weight <= self._max_weight:
            weight += self._pending[0].weight
            batch.append(self._pending.popleft())
        return batch

    async def _send(self, batch: list[_Slot[ItemT]]) -> None:
        try:
            try:
                results: Sequence[Any] = await self._flush([slot.item for slot in batch])
            except Exception as exc:
                results = [exc] * len(batch)
            for slot, result in zip(batch, results, strict=True):
                self._settle(slot, result)
        finally:
            for slot in batch:
                if not slot.done.is_set():
                    self._settle(slot, TransportError("the sender closed while this message was being sent"))
            self._slots.release()


class BatcherPool:
    """Batchers made on first use (one per queue or topic and operation), all run in one task group.

    Enter `running()` around every use; leaving it sends what is still
    waiting (for up to `FINISH_SECONDS`), then stops the batchers.
    """

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._batchers: dict[Hashable, Batcher[Any, Any]] = {}
        self._tg: anyio.abc.TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        with single_errors():
            async with anyio.create_task_group() as tg:
                self._tg = tg
                try:
                    yield
                finally:
                    self._tg = None
                    await self._finish_all()
                    tg.cancel_scope.cancel()

    async def _finish_all(self) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(FINISH_SECONDS):
            for batcher in self._batchers.values():
                batcher.finish()
            for batcher in self._batchers.values():
                await batcher.settled()

    def get(self, key: Hashable, make: Callable[[], Batcher[Any, Any]]) -> Batcher[Any, Any]:
        batcher = self._batchers.get(key)
        if batcher is None:
            if self._tg is None:
                raise TransportError(f"{self._owner} used outside running()")
            batcher = self._batchers[key] = make()
            self._tg.start_soon(batcher.run)
        return batcher
