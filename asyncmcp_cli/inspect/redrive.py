"""Move dead letters back to the queue they came from.

The target is, in order: the queue given explicitly; the queue a server named
when it dead-lettered the message itself (attribute ``asyncmcp-dead-letter-source``,
which is dropped on the way back); the one queue whose redrive policy names this
dead-letter queue (``ListDeadLetterSourceQueues``). Each message
is re-sent with its body and attributes, then deleted from the dead-letter
queue: a failure in between leaves a copy in both places, never in neither.
This works on every SQS-compatible endpoint (moto has no ``StartMessageMoveTask``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio

from asyncmcp_cli import aws
from asyncmcp_cli.allowlist import AllowList
from asyncmcp_cli.errors import AsyncMCPError, ConfigurationError
from asyncmcp_cli.sqs_queues import Received, SqsQueues, queue_name_of

logger = logging.getLogger(__name__)

SOURCE_ATTRIBUTE = "asyncmcp-dead-letter-source"
"""Set by the queue listener when it dead-letters a poison message itself."""


@dataclass(frozen=True)
class RedriveResult:
    dlq: str
    source: str
    """The queue(s) the messages went back to, by name (empty when there was nothing to move)."""
    moved: int
    failed: int = 0
    problem: str | None = None
    """Why some messages were not moved, when some were."""


async def redrive(
    settings: aws.AwsSettings, dlq: str, *, to: str | None = None, limit: int | None = None
) -> RedriveResult:
    """Move up to `limit` messages (all, by default) from `dlq` back to their source queue."""
    sqs = SqsQueues(settings)
    async with sqs.running():
        dlq_url = await sqs.url_for(dlq)
        explicit = await sqs.url_for(to) if to else None
        default: list[str] = []

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

        moved = failed = 0
        stranded: list[ConfigurationError] = []
        targets: set[str] = set()
        seen: set[str] = set()
        while limit is None or moved < limit:
            wanted = 10 if limit is None else min(10, limit - moved)
            received_now = await sqs.receive(dlq_url, max_messages=wanted, wait_seconds=1, visibility_timeout=30)
            batch = [r for r in received_now if r.message_id not in seen]
            for again in (r for r in received_now if r.message_id in seen):  # one we left in place: give it back
                await _release(sqs, again)
            if not batch:
                break
            seen.update(r.message_id for r in batch)
            routes: list[tuple[Received, str]] = []
            for received in batch:
                try:
                    routes.append((received, await target_of(received)))
                except ConfigurationError as exc:  # nowhere to send it: it stays, and we say why
                    stranded.append(exc)
                    await _release(sqs, received)
            outcomes: list[bool] = []
            async with anyio.create_task_group() as tg:
                for received, target in routes:
                    targets.add(target)
                    tg.start_soon(_move, sqs, target, received, outcomes)
            moved += outcomes.count(True)
            failed += outcomes.count(False)
        if stranded and not moved:
            raise stranded[0]
        names = ", ".join(sorted(queue_name_of(url) for url in targets))
        problem = f"{len(stranded)} left in place: {stranded[0]}" if stranded else None
        return RedriveResult(queue_name_of(dlq_url), names, moved, failed + len(stranded), problem)


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


async def _move(sqs: SqsQueues, target_url: str, received: Received, outcomes: list[bool]) -> None:
    attributes = {k: v for k, v in received.attributes.items() if k != SOURCE_ATTRIBUTE}
    try:
        await sqs.send(target_url, received.body, attributes, check_size=False)
    except AsyncMCPError as exc:
        logger.warning(
            "could not move message %s back (%s); it stays in the dead-letter queue", received.message_id, exc
        )
        outcomes.append(False)
        await _release(sqs, received)
        return
    try:
        await sqs.delete(received.queue_url, received.receipt_handle)
    except AsyncMCPError as exc:  # sent but not deleted: a copy remains; say so rather than hide it
        logger.warning(
            "moved message %s but could not delete it from the dead-letter queue (%s)", received.message_id, exc
        )
    outcomes.append(True)


async def _release(sqs: SqsQueues, received: Received) -> None:
    try:
        await sqs.change_visibility(received.queue_url, received.receipt_handle, 0)
    except AsyncMCPError:
        logger.debug("could not give back message %s; it reappears after its visibility timeout", received.message_id)
