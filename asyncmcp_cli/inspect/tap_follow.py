"""Follow MCP traffic through a tap topic: every message copied, no live queue touched.

Peers configured with a tap (`asyncmcp_cli.tap`) publish a copy of each
message they send. `follow_tap` reads those copies from a temporary queue of
its own (`tap_queue`), deletes each as it is read, and shows them in the
order they were sent: a copy waits `REORDER_SECONDS` after it arrives, so one
sent earlier but delivered later (a request tapped by a slow client, its
response by a fast server) still comes first, and a response is paired with
its request. The live request and reply queues are never received from.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
from collections.abc import Callable

import anyio
import anyio.abc

from asyncmcp_cli import aws
from asyncmcp_cli.aws.sqs_queues import SqsQueues, queue_name_of
from asyncmcp_cli.errors import AsyncMCPError
from asyncmcp_cli.inspect.decode import Observed, decode_tapped
from asyncmcp_cli.inspect.pairing import Pairer
from asyncmcp_cli.inspect.tail import Emit, QueueInfo, TailOptions, TailSummary
from asyncmcp_cli.inspect.tap_queue import tap_queue

REORDER_SECONDS = 1.0
"""How long a copy is held before it is shown, so copies delivered out of order are shown in send order."""
_RETRY_SECONDS = 2.0


async def follow_tap(
    settings: aws.AwsSettings,
    topic: str,
    options: TailOptions,
    emit: Emit,
    *,
    destinations: list[str] | None = None,
    on_start: Callable[[list[QueueInfo]], None] | None = None,
) -> TailSummary:
    """Show the copies published to the tap `topic` through `emit`, in send order, until count or timeout.

    `destinations`: queue or topic names, URLs or ARNs; when given, only
    copies of messages sent to one of them are shown.
    """
    wanted = _matcher(destinations)
    sqs = SqsQueues(settings)
    async with sqs.running(), tap_queue(settings, topic) as url:
        summary = TailSummary(queues=[QueueInfo(queue_name_of(url), url, None)])
        if on_start is not None:
            on_start(summary.queues)
        reader = _Reader(sqs, url, options, emit, summary, wanted)
        with anyio.move_on_after(options.timeout if options.timeout is not None else float("inf")) as scope:
            await reader.run()
        if scope.cancelled_caught:
            summary.stopped_by = "timeout"
    return summary


def _matcher(destinations: list[str] | None) -> Callable[[Observed], bool]:
    if not destinations:
        return lambda observed: True
    names = {queue_name_of(d) if "://" in d else d.rsplit(":", 1)[-1] for d in destinations} | set(destinations)
    return lambda observed: observed.queue_url in names or observed.queue in names


class _Reader:
    def __init__(
        self,
        sqs: SqsQueues,
        url: str,
        options: TailOptions,
        emit: Emit,
        summary: TailSummary,
        wanted: Callable[[Observed], bool],
    ) -> None:
        self.sqs, self.url, self.options, self.emit = sqs, url, options, emit
        self.summary, self.wanted = summary, wanted
        self.pairer = Pairer()
        self.waiting: list[tuple[int, int, float, Observed]] = []  # (sent at, arrival order, arrived at, copy)
        self.order = itertools.count()
        self.arrived = anyio.Event()
        self.done = anyio.Event()
        self._tasks: anyio.abc.TaskGroup

    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            self._tasks = tg
            tg.start_soon(self._receive)
            tg.start_soon(self._release)
            await self.done.wait()
            tg.cancel_scope.cancel()

    async def _receive(self) -> None:
        while True:
            try:
                batch = await self.sqs.receive(self.url, wait_seconds=self.options.wait_seconds)
            except AsyncMCPError:
                await anyio.sleep(_RETRY_SECONDS)
                continue
            now = anyio.current_time()
            for received in batch:
                self._delete(received.receipt_handle)
                observed = decode_tapped(received)
                heapq.heappush(self.waiting, (observed.sent_at_ms or 0, next(self.order), now, observed))
            if batch:
                self.arrived.set()

    def _delete(self, receipt: str) -> None:
        """Delete a copy once read (batched, in the background): the queue is ours, and copies are shown once."""

        async def delete() -> None:
            with contextlib.suppress(AsyncMCPError):  # at worst it comes back and is shown again
                await self.sqs.delete(self.url, receipt, lazy=True)

        self._tasks.start_soon(delete)

    async def _release(self) -> None:
        while True:
            if not self.waiting:
                self.arrived = anyio.Event()
                await self.arrived.wait()
                continue
            _, _, arrived_at, observed = self.waiting[0]
            due = arrived_at + REORDER_SECONDS - anyio.current_time()
            if due > 0:
                await anyio.sleep(due)
                continue  # something sent earlier may have arrived meanwhile
            heapq.heappop(self.waiting)
            self._show(self.pairer.see(observed))
            if self.done.is_set():
                return

    def _show(self, observed: Observed) -> None:
        if not self.wanted(observed) or not self.options.matches(observed):
            return
        self.emit(observed)
        self.summary.shown += 1
        if self.options.count is not None and self.summary.shown >= self.options.count:
            self.summary.stopped_by = "count"
            self.done.set()
