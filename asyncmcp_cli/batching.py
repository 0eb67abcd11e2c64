"""Coalesce concurrent single-item calls into batch API calls.

SQS charges (and rate-limits) per request, and its batch operations take up to
ten entries. A `Batcher` lets each caller await its own item while the worker
sends whatever is waiting in one request. It adds no delay: a lone item is sent
at once; items only group up while earlier batches are still in flight.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio
import anyio.abc

from asyncmcp_cli._groups import single_errors
from asyncmcp_cli.errors import TransportError

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

Flush = Callable[[Sequence[ItemT]], Awaitable[Sequence["ResultT | Exception"]]]


@dataclass(eq=False)
class _Slot(Generic[ItemT]):
    item: ItemT
    weight: int
    done: anyio.Event = field(default_factory=anyio.Event)
    result: Any = None
    error: BaseException | None = None


class Batcher(Generic[ItemT, ResultT]):
    """Send items through `flush` in batches of at most `size` items and `max_weight`.

    `flush` returns one result or exception per item, in order. Up to
    `concurrency` batches are in flight at once. Run `run()` in a task group.
    """

    def __init__(
        self,
        flush: Flush[ItemT, ResultT],
        *,
        size: int = 10,
        max_weight: float = math.inf,
        weigh: Callable[[ItemT], int] = lambda _: 0,
        concurrency: int = 2,
    ) -> None:
        self._flush = flush
        self._size = size
        self._max_weight = max_weight
        self._weigh = weigh
        self._pending: deque[_Slot[ItemT]] = deque()
        self._wakeup = anyio.Event()
        self._slots = anyio.Semaphore(concurrency)
        self._closed = False

    async def submit(self, item: ItemT) -> ResultT:
        if self._closed:
            raise TransportError("the sender is closed")
        slot = _Slot(item, self._weigh(item))
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
                        await self._wakeup.wait()
                        self._wakeup = anyio.Event()
                    tg.start_soon(self._send, self._take_batch())
        finally:
            self._closed = True
            for slot in self._pending:
                slot.error = TransportError("the sender closed before this message was sent")
                slot.done.set()
            self._pending.clear()

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
                if isinstance(result, BaseException):
                    slot.error = result
                else:
                    slot.result = result
                slot.done.set()
        finally:
            for slot in batch:
                if not slot.done.is_set():
                    slot.error = TransportError("the sender closed while this message was being sent")
                    slot.done.set()
            self._slots.release()


class BatcherPool:
    """Batchers made on first use (one per queue or topic and operation), all run in one task group.

    Enter `running()` around every use; leaving it stops the batchers.
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
                    tg.cancel_scope.cancel()

    def get(self, key: Hashable, make: Callable[[], Batcher[Any, Any]]) -> Batcher[Any, Any]:
        batcher = self._batchers.get(key)
        if batcher is None:
            if self._tg is None:
                raise TransportError(f"{self._owner} used outside running()")
            batcher = self._batchers[key] = make()
            self._tg.start_soon(batcher.run)
        return batcher
