"""Watch the MCP traffic on one or more queues.

SQS has no true peek: seeing a message means receiving it. By default `tail`
receives, shows and gives each message back (visibility 0) so its consumer
gets it as if nothing happened, except that each look raises the message's
receive count, and on a queue with a redrive policy a message received
max-receive-count times without being deleted moves to the dead-letter queue.
``consume`` deletes what is shown instead.

- A snapshot (the default) takes what is on the queues now, holding each
  message hidden until the pass ends so none is counted twice, shows them in
  the order they were sent, and gives them all back.
- ``follow`` long-polls until cancelled (or ``count``/``timeout``), giving each
  batch back at once; a message already shown is not shown again, and while
  such messages keep coming back the poll backs off (up to 20 s), to spare
  their receive counts.

Requests and responses are paired by (client id, id) across all the queues.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import anyio.abc

from asyncmcp_cli import aws
from asyncmcp_cli.aws.sqs_queues import Received, SqsQueues, queue_name_of
from asyncmcp_cli.errors import AsyncMCPError
from asyncmcp_cli.inspect.decode import Observed, decode
from asyncmcp_cli.inspect.pairing import Pairer

logger = logging.getLogger(__name__)

SNAPSHOT_LIMIT = 1000
"""At most this many messages are held at once in a snapshot."""

_MAX_BACKOFF = 20.0


@dataclass(frozen=True)
class TailOptions:
    follow: bool = False
    consume: bool = False
    count: int | None = None
    """Stop after showing this many messages."""
    timeout: float | None = None
    """Stop after this many seconds."""
    methods: tuple[str, ...] = ()
    """Glob patterns; a response matches through the request it answers."""
    clients: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    hold_seconds: int = 30
    """How long a received message stays hidden if `tail` dies before giving it back."""
    wait_seconds: int = 20
    """Long-poll length when following."""

    def matches(self, observed: Observed) -> bool:
        method = observed.shown_method or ""
        if self.methods and not any(fnmatch.fnmatchcase(method, p) for p in self.methods):
            return False
        if self.clients and observed.client_id not in self.clients:
            return False
        return not self.ids or _id_text(observed.id) in self.ids


@dataclass(frozen=True)
class QueueInfo:
    name: str
    url: str
    max_receive_count: int | None
    """Receives before this queue dead-letters a message (None: it has no redrive policy)."""


@dataclass
class TailSummary:
    queues: list[QueueInfo] = field(default_factory=list)
    shown: int = 0
    consumed: int = 0
    orphaned: int = 0
    """Of those shown: expired, or received so often that no live client is taking them."""
    stopped_by: str = "end"
    """Why it stopped: ``end`` (snapshot done), ``count`` or ``timeout``."""


Emit = Callable[[Observed], None]


async def tail(
    settings: aws.AwsSettings,
    queues: list[str],
    options: TailOptions,
    emit: Emit,
    *,
    on_start: Callable[[list[QueueInfo]], None] | None = None,
) -> TailSummary:
    """Show the messages on `queues` (names or URLs) through `emit`, as `options` say."""
    sqs = SqsQueues(settings)
    async with sqs.running():
        urls = [await sqs.url_for(queue) for queue in queues]
        summary = TailSummary(queues=[await _info(settings, url) for url in urls])
        if on_start is not None:
            on_start(summary.queues)
        session = _Session(sqs, options, emit, summary)
        with anyio.move_on_after(options.timeout if options.timeout is not None else float("inf")) as scope:
            if options.follow:
                await session.follow(urls)
            else:
                await session.snapshot(urls)
        if scope.cancelled_caught:
            summary.stopped_by = "timeout"
    return summary


class _Session:
    def __init__(self, sqs: SqsQueues, options: TailOptions, emit: Emit, summary: TailSummary) -> None:
        self.sqs = sqs
        self.options = options
        self.emit = emit
        self.summary = summary
        self.pairer = Pairer()
        self.seen: set[str] = set()
        self.done = anyio.Event()

    # -- snapshot -----------------------------------------------------------

    async def snapshot(self, urls: list[str]) -> None:
        held: list[Received] = []
        again: list[Received] = []  # received a second time (after the hold ran out): given back, not shown
        try:
            async with anyio.create_task_group() as tg:
                for url in urls:
                    tg.start_soon(self._collect, url, held, again)
            observed = sorted(((decode(r), r) for r in held), key=lambda pair: pair[0].sent_at_ms or 0)
            for item, received in observed:
                if self.done.is_set():
                    break
                await self._show(item, received, held)
        finally:
            await self._give_back(held + again)

    async def _collect(self, url: str, held: list[Received], again: list[Received]) -> None:
        while len(held) < SNAPSHOT_LIMIT and not self._enough(held):
            batch = await self.sqs.receive(url, wait_seconds=1, visibility_timeout=self.options.hold_seconds)
            new = [r for r in batch if r.message_id not in self.seen]
            self.seen.update(r.message_id for r in new)
            held.extend(new)
            again.extend(r for r in batch if r not in new)
            if not new:
                return

    def _enough(self, held: list[Received]) -> bool:
        """With a count and no filters, stop collecting once there are enough."""
        o = self.options
        return o.count is not None and not (o.methods or o.clients or o.ids) and len(held) >= o.count

    # -- follow ---------------------------------------------------------------

    async def follow(self, urls: list[str]) -> None:
        async with anyio.create_task_group() as tg:
            for url in urls:
                tg.start_soon(self._follow_queue, url)
            await self.done.wait()
            tg.cancel_scope.cancel()

    async def _follow_queue(self, url: str) -> None:
        backoff = 0.0
        while not self.done.is_set():
            batch = await self.sqs.receive(
                url, wait_seconds=self.options.wait_seconds, visibility_timeout=self.options.hold_seconds
            )
            held = list(batch)
            try:
                new = [r for r in batch if r.message_id not in self.seen]
                self.seen.update(r.message_id for r in new)
                for received in sorted(new, key=lambda r: r.sent_at_ms or 0):
                    await self._show(self.pairer.see(decode(received)), received, held, paired=True)
            finally:
                await self._give_back(held)
            backoff = _next_backoff(backoff, received=len(batch), new=len(new))
            if backoff:
                logger.debug("messages already shown wait on %s; next look in %.0fs", queue_name_of(url), backoff)
                await anyio.sleep(backoff)

    # -- showing and settling -------------------------------------------------

    async def _show(
        self, observed: Observed, received: Received, held: list[Received], *, paired: bool = False
    ) -> None:
        if self.done.is_set():
            return
        if not paired:
            observed = self.pairer.see(observed)
        if not self.options.matches(observed):
            return
        self.emit(observed)
        self.summary.shown += 1
        self.summary.orphaned += observed.orphaned
        if self.options.consume:
            await self.sqs.delete(received.queue_url, received.receipt_handle)
            held.remove(received)
            self.summary.consumed += 1
        if self.options.count is not None and self.summary.shown >= self.options.count:
            self.summary.stopped_by = "count"
            self.done.set()

    async def _give_back(self, held: list[Received]) -> None:
        """Make held messages visible again at once (shielded: also on Ctrl-C and timeouts)."""
        if not held:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(10):
            async with anyio.create_task_group() as tg:
                for received in held:
                    tg.start_soon(self._release, received)
        held.clear()

    async def _release(self, received: Received) -> None:
        try:
            await self.sqs.change_visibility(received.queue_url, received.receipt_handle, 0)
        except AsyncMCPError as exc:
            logger.warning(
                "could not give back a message on %s (%s); it reappears after %ss",
                queue_name_of(received.queue_url),
                exc,
                self.options.hold_seconds,
            )


async def _info(settings: aws.AwsSettings, url: str) -> QueueInfo:
    response = await aws.call(
        aws.client("sqs", settings).get_queue_attributes, QueueUrl=url, AttributeNames=["RedrivePolicy"]
    )
    redrive = response.get("Attributes", {}).get("RedrivePolicy")
    max_receives = None
    if redrive:
        try:
            max_receives = int(json.loads(redrive)["maxReceiveCount"])
        except (ValueError, KeyError, TypeError):
            max_receives = None
    return QueueInfo(queue_name_of(url), url, max_receives)


def _next_backoff(current: float, *, received: int, new: int) -> float:
    """Seconds to wait before the next look, sparing the receive counts of messages already shown.

    Nothing old came back: look again at once. Old and new together: wait a
    second. Only old ones: wait twice as long as last time, up to 20 s.
    """
    if new == received:
        return 0.0
    if new:
        return 1.0
    return min(max(1.0, current * 2), _MAX_BACKOFF)


def _id_text(rid: str | int | None) -> str:
    return "" if rid is None else str(rid)
