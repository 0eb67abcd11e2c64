"""The temporary queue `tail --follow` reads a tap topic through: made on start, removed on exit.

The queue is `tail`'s own (``TOPIC-<random>``, e.g. ``asyncmcp-tap-3f9c1a2b``),
subscribed to the tap topic with raw delivery, so reading and deleting from it
touches no live queue. It carries the tags of an asyncmcp tap queue
(``asyncmcp:created-by=asyncmcp``, ``asyncmcp:role=tap``), its subscription's
ARN, and an expiry time that a running `tail` keeps pushing forward. On exit
(also Ctrl-C) it is unsubscribed and deleted. A `tail` that was killed leaves
its queue behind; the next `tail` on the same topic removes the queues whose
expiry has passed, and only queues tagged as asyncmcp tap queues.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from asyncmcp_cli import aws
from asyncmcp_cli.aws.sns_topics import SnsTopics, topic_name_of
from asyncmcp_cli.aws.sqs_queues import queue_name_of
from asyncmcp_cli.errors import AsyncMCPError, ConfigurationError

logger = logging.getLogger(__name__)

CREATED_BY, MAKER = "asyncmcp:created-by", "asyncmcp"
"""The tag `provision` puts on what it makes (`asyncmcp_cli.provision.ownership`); tap queues carry it too."""
ROLE = "asyncmcp:role"
TAP_ROLE = "tap"
EXPIRES = "asyncmcp:tap-expires"
"""Epoch seconds after which any `tail` may remove the queue (its own `tail` is gone)."""
SUBSCRIPTION = "asyncmcp:tap-subscription"
LEASE_SECONDS = 600
"""How far ahead the expiry is set; renewed every `RENEW_SECONDS` while `tail` runs."""
RENEW_SECONDS = 120
RETENTION_SECONDS = 3600
"""Copies nobody read are dropped after an hour, whatever happens to the queue."""


def queue_base(topic_arn: str) -> str:
    """The name prefix of the tap queues of a topic (``asyncmcp-tap`` → ``asyncmcp-tap-``)."""
    name = topic_name_of(topic_arn)
    if name.endswith(".fifo"):
        raise ConfigurationError(f"tap topic {name!r} is a FIFO topic; a tap must be a standard topic")
    return name[:60] + "-"


@asynccontextmanager
async def tap_queue(settings: aws.AwsSettings, topic: str) -> AsyncIterator[str]:
    """The URL of a fresh queue subscribed to the tap `topic` (name or ARN), removed when the block ends."""
    topics = SnsTopics(settings)
    arn = await topics.arn_for(topic, check=True)
    base = queue_base(arn)
    removed = await aws.call(sweep, settings=settings, base=base, now=time.time())
    if removed:
        logger.info("removed %d tap queue(s) left behind by an earlier tail", removed)
    url, subscription = await aws.call(_create, settings=settings, topic_arn=arn, name=base + uuid.uuid4().hex[:8])
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_renew, settings, url)
            try:
                yield url
            finally:
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(15):
            await aws.call(_remove, settings=settings, url=url, subscription=subscription)


def _create(*, settings: aws.AwsSettings, topic_arn: str, name: str) -> tuple[str, str]:
    """Create, tag, allow the topic to send, subscribe; on any failure, undo what was done. Synchronous."""
    sqs, sns = aws.client("sqs", settings), aws.client("sns", settings)
    tags = {CREATED_BY: MAKER, ROLE: TAP_ROLE, EXPIRES: _expiry()}
    url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS)}, tags=tags)[
        "QueueUrl"
    ]
    subscription = ""
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(queue_arn, topic_arn)})
        subscription = sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        sqs.tag_queue(QueueUrl=url, Tags={SUBSCRIPTION: subscription})
    except Exception:
        _remove(settings=settings, url=url, subscription=subscription)
        raise
    return url, subscription


def _policy(queue_arn: str, topic_arn: str) -> str:
    """Lets SNS deliver messages from exactly the tap topic to the queue."""
    statement = {
        "Sid": "AsyncmcpFromTap",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _remove(*, settings: aws.AwsSettings, url: str, subscription: str) -> None:
    """Unsubscribe and delete the queue; each step is tried even if the other fails. Synchronous."""
    sqs, sns = aws.client("sqs", settings), aws.client("sns", settings)
    if subscription.startswith("arn:"):
        try:
            sns.unsubscribe(SubscriptionArn=subscription)
        except Exception as exc:
            logger.warning("could not unsubscribe tap queue %s (%s)", queue_name_of(url), exc)
    try:
        sqs.delete_queue(QueueUrl=url)
    except Exception as exc:
        logger.warning("could not delete tap queue %s (%s); the next tail removes it", queue_name_of(url), exc)


def sweep(*, settings: aws.AwsSettings, base: str, now: float) -> int:
    """Remove tap queues named `base`... whose expiry tag has passed; how many. Synchronous."""
    sqs = aws.client("sqs", settings)
    removed = 0
    for url in _queues_named(sqs, base):
        try:
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        except Exception as exc:
            logger.debug("could not read the tags of %s (%s)", url, exc)
            continue
        if not _expired_tap(tags, now):
            continue
        _remove(settings=settings, url=url, subscription=tags.get(SUBSCRIPTION, ""))
        removed += 1
    return removed


def _expired_tap(tags: dict[str, str], now: float) -> bool:
    if tags.get(CREATED_BY) != MAKER or tags.get(ROLE) != TAP_ROLE:
        return False
    try:
        return float(tags.get(EXPIRES, "")) < now
    except ValueError:
        return False


def _queues_named(sqs: Any, base: str) -> list[str]:
    urls: list[str] = []
    kwargs: dict[str, Any] = {"QueueNamePrefix": base, "MaxResults": 1000}
    while True:
        page = sqs.list_queues(**kwargs)
        urls.extend(page.get("QueueUrls", []))
        token = page.get("NextToken")
        if not token:
            return urls
        kwargs["NextToken"] = token


def _expiry() -> str:
    return str(int(time.time()) + LEASE_SECONDS)


async def _renew(settings: aws.AwsSettings, url: str) -> None:
    client = aws.client("sqs", settings)
    while True:
        await anyio.sleep(RENEW_SECONDS)
        try:
            await aws.call(client.tag_queue, QueueUrl=url, Tags={EXPIRES: _expiry()})
        except AsyncMCPError as exc:
            logger.warning("could not renew the expiry of tap queue %s (%s)", queue_name_of(url), exc)
