"""Move dead letters back to the queue they came from.

The target is, in order: the queue given explicitly; the queue a server named
when it dead-lettered the message itself (attribute ``asyncmcp-dead-letter-source``,
which is dropped on the way back); the one queue whose redrive policy names this
dead-letter queue (``ListDeadLetterSourceQueues``). Each message
is re-sent with its body and attributes, then deleted from the dead-letter
queue: a failure in between leaves a copy in both places, never in neither.
This works on every SQS-compatible endpoint (moto has no ``StartMessageMoveTask``).

A redrive moves a snapshot, each message once: at most the number of messages
the queue held when it started (``ApproximateNumberOfMessages``, and at most
`limit`). Every moved message is marked with this run's id (attribute
``asyncmcp-redrive-id``); a poison message that a running server dead-letters
again comes back with the mark (under a new message id) and is left where it is,
so a redrive ends even while the server keeps failing the same messages.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import anyio

from asyncmcp_cli import aws
from asyncmcp_cli.aws.sqs_queues import Received, SqsQueues, queue_name_of
from asyncmcp_cli.delivery.allowlist import AllowList
from asyncmcp_cli.errors import AsyncMCPError, ConfigurationError

logger = logging.getLogger(__name__)

SOURCE_ATTRIBUTE = "asyncmcp-dead-letter-source"
"""Set by the queue listener when it dead-letters a poison message itself."""
REDRIVE_ATTRIBUTE = "asyncmcp-redrive-id"
"""Set on each message a redrive moves: the run's id, so the run knows the message if it comes back."""
MAX_ATTRIBUTES = 10
"""SQS carries at most ten message attributes; a message already at the limit moves unmarked."""
_HOLD_SECONDS = 120
"""How long a message this run will not move stays hidden from it (given back at the end)."""


@dataclass(frozen=True)
class RedriveResult:
    dlq: str
    source: str
    """The queue(s) the messages went back to, by name (empty when there was nothing to move)."""
    moved: int
    failed: int = 0
    problem: str | None = None
    """Why some messages were not moved, when some were."""


@dataclass
class RedriveProgress:
    """What a redrive has done so far; complete when it returns, readable when it is interrupted."""

    dlq: str = ""
    snapshot: int = 0
    """Messages the dead-letter queue held at the start: the most this run moves."""
    moved: int = 0
    failed: int = 0
    targets: set[str] = field(default_factory=set)
    stranded: list[ConfigurationError] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.moved + self.failed + len(self.stranded)

    def result(self) -> RedriveResult:
        names = ", ".join(sorted(queue_name_of(url) for url in self.targets))
        problem = f"{len(self.stranded)} left in place: {self.stranded[0]}" if self.stranded else None
        return RedriveResult(self.dlq, names, self.moved, self.failed + len(self.stranded), problem)


async def redrive(
    settings: aws.AwsSettings,
    dlq: str,
    *,
    to: str | None = None,
    limit: int | None = None,
    progress: RedriveProgress | None = None,
) -> RedriveResult:
    """Move the messages `dlq` holds now (at most `limit`) back to their source queue, each once.

    `progress`, when given, is kept up to date, so a caller that is interrupted
    can still say how many were moved.
    """
    progress = progress if progress is not None else RedriveProgress()
    sqs = SqsQueues(settings)
    async with sqs.running():
        dlq_url = await sqs.url_for(dlq)
        progress.dlq = queue_name_of(dlq_url)
        explicit = await sqs.url_for(to) if to else None
        default: list[str] = []
        run_id = uuid.uuid4().hex

        same_home = AllowList.of(["*"], home=dlq_url)  # a named source must be a queue beside the DLQ

        async def target_of(received: Received) -> str:
            if explicit:
                return explicit
            named = received.attributes.get(SOURCE_ATTRIBUTE)
            if named and "://" in named and same_home.admits(named):
                return named
            if not default:
                default.append(await source_of(settings, dlq_url))
            return default[0]

        progress.snapshot = await _visible_messages(settings, dlq_url)
        if limit is not None:
            progress.snapshot = min(progress.snapshot, limit)
        held: list[Received] = []  # seen but not ours to move (come back, or nowhere to go): given back at the end
        seen: set[str] = set()
        try:
            # Each round moves or holds (hides) at least one message, and each moved message can come
            # back at most once with this run's mark, so the rounds are bounded too.
            while progress.handled < progress.snapshot and len(held) <= progress.snapshot:
                wanted = min(10, progress.snapshot - progress.handled)
                received_now = await sqs.receive(
                    dlq_url, max_messages=wanted, wait_seconds=1, visibility_timeout=_HOLD_SECONDS
                )
                if not received_now:
                    break
                batch: list[Received] = []
                for received in received_now:
                    if received.message_id in seen or received.attributes.get(REDRIVE_ATTRIBUTE) == run_id:
                        held.append(received)  # moved by this run and dead-lettered again: not moved twice
                    else:
                        batch.append(received)
                if not batch:
                    continue
                seen.update(r.message_id for r in batch)
                routes: list[tuple[Received, str]] = []
                for received in batch:
                    try:
                        routes.append((received, await target_of(received)))
                    except ConfigurationError as exc:  # nowhere to send it: it stays, and we say why
                        progress.stranded.append(exc)
                        held.append(received)
                async with anyio.create_task_group() as tg:
                    for received, target in routes:
                        progress.targets.add(target)
                        tg.start_soon(_move, sqs, target, received, run_id, progress)
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                for received in held:
                    await _release(sqs, received)
        if progress.stranded and not progress.moved:
            raise progress.stranded[0]
        return progress.result()


async def _visible_messages(settings: aws.AwsSettings, url: str) -> int:
    response = await aws.call(
        aws.client("sqs", settings).get_queue_attributes, QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(response.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))


async def source_of(settings: aws.AwsSettings, dlq_url: str) -> str:
    """The one queue that dead-letters into `dlq_url`."""
    response = await aws.call(aws.client("sqs", settings).list_dead_letter_source_queues, QueueUrl=dlq_url)
    sources = list(response.get("queueUrls", []))
    name = queue_name_of(dlq_url)
    if not sources:
        raise ConfigurationError(f"no queue uses {name!r} as its dead-letter queue; name the target with --to")
    if len(sources) > 1:
        names = ", ".join(queue_name_of(url) for url in sources)
        raise ConfigurationError(f"several queues dead-letter into {name!r} ({names}); pick one with --to")
    return str(sources[0])


async def _move(sqs: SqsQueues, target_url: str, received: Received, run_id: str, progress: RedriveProgress) -> None:
    attributes = {k: v for k, v in received.attributes.items() if k not in (SOURCE_ATTRIBUTE, REDRIVE_ATTRIBUTE)}
    if len(attributes) < MAX_ATTRIBUTES:
        attributes[REDRIVE_ATTRIBUTE] = run_id
    try:
        await sqs.send(target_url, received.body, attributes, check_size=False)
    except AsyncMCPError as exc:
        logger.warning(
            "could not move message %s back (%s); it stays in the dead-letter queue", received.message_id, exc
        )
        progress.failed += 1
        await _release(sqs, received)
        return
    progress.moved += 1
    try:
        await sqs.delete(received.queue_url, received.receipt_handle)
    except AsyncMCPError as exc:  # sent but not deleted: a copy remains; say so rather than hide it
        logger.warning(
            "moved message %s but could not delete it from the dead-letter queue (%s)", received.message_id, exc
        )


async def _release(sqs: SqsQueues, received: Received) -> None:
    try:
        await sqs.change_visibility(received.queue_url, received.receipt_handle, 0)
    except AsyncMCPError:
        logger.debug("could not give back message %s; it reappears after its visibility timeout", received.message_id)
