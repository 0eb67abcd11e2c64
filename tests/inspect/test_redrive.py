"""Dead letters: shown with their receive counts, and moved back to their source queue."""

from __future__ import annotations

import json

import anyio
import pytest

from asyncmcp_cli import codec
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.inspect import TailOptions, redrive, tail
from tests.conftest import Queues, wait_until, wait_until_sync

pytestmark = pytest.mark.anyio


def with_dlq(queues: Queues, source: str, dlq: str, max_receives: int = 1) -> tuple[str, str]:
    dlq_url = queues.create(dlq)
    dlq_arn = queues.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    return queues.create(source, RedrivePolicy=policy), dlq_url


def dead_letter(queues: Queues, source_url: str, dlq_url: str, body: str, **attributes: str) -> None:
    """Send a message and receive it until SQS moves it to the dead-letter queue."""
    before = sum(queues.counts(dlq_url))
    queues.sqs.send_message(
        QueueUrl=source_url,
        MessageBody=body,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )

    def moved() -> bool:
        queues.sqs.receive_message(QueueUrl=source_url, VisibilityTimeout=0)
        return sum(queues.counts(dlq_url)) > before

    wait_until_sync(moved)


async def test_dead_letters_are_shown_and_moved_back(queues: Queues) -> None:
    source, dlq = with_dlq(queues, queues.prefix + "work", queues.prefix + "work-dlq")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}})
    dead_letter(queues, source, dlq, body, **{codec.CLIENT_ID: "c1"})
    dead_letter(queues, source, dlq, "poison")

    seen: list = []
    with anyio.fail_after(20):
        await tail(queues.endpoint.settings, [dlq], TailOptions(), seen.append)
    assert sorted(o.kind for o in seen) == ["invalid", "request"]
    assert all(o.receive_count >= 2 for o in seen)  # its receives in the source queue, and ours

    with anyio.fail_after(20):
        result = await redrive(queues.endpoint.settings, dlq)
    assert (result.moved, result.failed, result.source) == (2, 0, queues.prefix + "work")
    await wait_until(lambda: queues.counts(dlq) == (0, 0) and queues.counts(source) == (2, 0))
    moved = queues.sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    bodies = {m["Body"]: m.get("MessageAttributes", {}) for m in moved["Messages"]}
    assert bodies[body][codec.CLIENT_ID]["StringValue"] == "c1"  # attributes travel back too
    assert "poison" in bodies


async def test_redrive_to_a_named_queue_with_a_limit(queues: Queues) -> None:
    source, dlq = with_dlq(queues, queues.prefix + "a", queues.prefix + "a-dlq")
    for n in range(3):
        dead_letter(queues, source, dlq, f"letter {n}")
    with anyio.fail_after(20):
        result = await redrive(queues.endpoint.settings, dlq, to=queues.request, limit=2)
    assert (result.moved, result.source) == (2, queues.request)
    await wait_until(lambda: queues.counts(queues.request_url)[0] == 2 and queues.counts(dlq)[0] == 1)


async def test_a_source_named_by_the_server_wins_and_is_not_carried_back(queues: Queues) -> None:
    dlq = queues.create(queues.prefix + "poison")
    foreign = "http://elsewhere.example:4566/999999999999/" + queues.request  # not beside the DLQ: ignored
    for source in (queues.request_url, foreign):
        queues.sqs.send_message(
            QueueUrl=dlq,
            MessageBody=f"from {source}",
            MessageAttributes={"asyncmcp-dead-letter-source": {"DataType": "String", "StringValue": source}},
        )
    with anyio.fail_after(20):
        result = await redrive(queues.endpoint.settings, dlq)
    assert (result.moved, result.failed, result.source) == (1, 1, queues.request)
    assert "no queue uses" in (result.problem or "")  # the foreign one had nowhere to go: it stays
    await wait_until(lambda: queues.counts(dlq) == (1, 0) and queues.counts(queues.request_url) == (1, 0))
    (moved,) = queues.sqs.receive_message(QueueUrl=queues.request_url, MessageAttributeNames=["All"])["Messages"]
    assert moved["Body"] == f"from {queues.request_url}" and "MessageAttributes" not in moved


async def test_nothing_to_move_and_ambiguous_sources(queues: Queues) -> None:
    empty = queues.create(queues.prefix + "empty")
    result = await redrive(queues.endpoint.settings, empty)
    assert (result.moved, result.source) == (0, "")
    dlq_url = queues.create(queues.prefix + "shared-dlq")
    arn = queues.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    queues.create(queues.prefix + "one", RedrivePolicy=policy)
    queues.create(queues.prefix + "two", RedrivePolicy=policy)
    queues.sqs.send_message(QueueUrl=dlq_url, MessageBody="stuck")
    with pytest.raises(ConfigurationError, match="several queues"):
        await redrive(queues.endpoint.settings, dlq_url)
    await wait_until(lambda: queues.counts(dlq_url) == (1, 0))  # given back, not lost
