"""SNS topic operations for one endpoint, used by the SNS+SQS transport (and `provision`).

Publishes are coalesced into ``PublishBatch`` calls (the same `Batcher` the SQS
sends use); topic names resolve to ARNs in the caller's account. Every call
runs off the event loop (see `asyncmcp_cli.aws`). The synchronous helpers at
the bottom are shared with `asyncmcp_cli.provision`, which is synchronous.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncmcp_cli import aws
from asyncmcp_cli.aws.batching import Batcher, BatcherPool
from asyncmcp_cli.errors import PayloadTooLargeError, TransportError

MAX_MESSAGE_BYTES = 256 * 1024
"""SNS's limit for a message body plus its attributes."""

DEFAULT_GROUP = "asyncmcp"
"""Message group on a FIFO topic when the sender names none."""


def is_topic_arn(address: str) -> bool:
    parts = address.split(":")
    return len(parts) >= 6 and parts[0] == "arn" and parts[2] == "sns"


def topic_name_of(name_or_arn: str) -> str:
    return name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def topic_arn(name_or_arn: str, *, region: str, account: str) -> str:
    """The ARN of a topic named in `account` and `region` (an ARN passes through)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    partition = aws.partition_for(region)
    return f"arn:{partition}:sns:{region}:{account}:{name_or_arn}"


@dataclass(frozen=True)
class _Outgoing:
    body: str
    attributes: dict[str, str]
    group_id: str | None

    @property
    def size(self) -> int:
        return len(self.body.encode()) + sum(
            len(k) + len(v.encode()) + len("String") for k, v in self.attributes.items()
        )


class SnsTopics:
    """Batched, off-loop SNS operations against one endpoint. Enter `running()` before publishing."""

    def __init__(self, settings: aws.AwsSettings) -> None:
        self.settings = settings
        self._client = aws.client("sns", settings)
        self._account: str | None = None
        self._batchers = BatcherPool("SnsTopics")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[SnsTopics]:
        async with self._batchers.running():
            yield self

    # -- addressing -------------------------------------------------------

    async def account(self) -> str:
        if self._account is None:
            identity = await aws.call(aws.client("sts", self.settings).get_caller_identity)
            self._account = str(identity["Account"])
        return self._account

    async def arn_for(self, name_or_arn: str, *, check: bool = False) -> str:
        """Resolve a topic name to its ARN in our account; with `check`, fail clearly when it does not exist."""
        if name_or_arn.startswith("arn:"):
            arn = name_or_arn
        else:
            arn = topic_arn(name_or_arn, region=self.settings.resolved_region, account=await self.account())
        if check:
            try:
                await aws.call(self._client.get_topic_attributes, TopicArn=arn)
            except TransportError as exc:
                if aws.error_code(exc) in {"NotFound", "NotFoundException"}:
                    raise TransportError(f"topic {topic_name_of(arn)!r} does not exist at {self._where()}") from exc
                raise
        return arn

    async def subscription_of(self, topic: str, queue_arn: str) -> dict[str, str] | None:
        """Attributes of the queue's subscription to the topic, or None when it has none."""
        return await aws.call(find_subscription, client=self._client, topic=topic, queue_arn=queue_arn)

    def _where(self) -> str:
        return self.settings.resolved_endpoint or f"AWS {self.settings.resolved_region}"

    # -- publishing -------------------------------------------------------

    async def publish(
        self, topic: str, body: str, attributes: dict[str, str] | None = None, *, group_id: str | None = None
    ) -> str:
        """Publish one message (batched with concurrent publishes); returns its message id.

        On a FIFO topic (``.fifo``) the message goes in `group_id` (default
        ``asyncmcp``) with a deduplication id derived from the message.
        """
        outgoing = _Outgoing(body, dict(attributes or {}), group_id)
        if outgoing.size > MAX_MESSAGE_BYTES:
            raise PayloadTooLargeError(
                f"message of {outgoing.size} bytes exceeds the {MAX_MESSAGE_BYTES}-byte SNS message limit"
            )
        return await self._batcher(topic).submit(outgoing)

    def _batcher(self, topic: str) -> Batcher[_Outgoing, str]:
        return self._batchers.get(
            topic,
            lambda: Batcher(
                lambda items: self._publish_batch(topic, items), max_weight=MAX_MESSAGE_BYTES, weigh=lambda o: o.size
            ),
        )

    async def _publish_batch(self, topic: str, items: Sequence[_Outgoing]) -> list[str | Exception]:
        fifo = topic.endswith(".fifo")
        entries = []
        for index, item in enumerate(items):
            entry: dict[str, Any] = {
                "Id": str(index),
                "Message": item.body,
                "MessageAttributes": {
                    name: {"DataType": "String", "StringValue": value} for name, value in item.attributes.items()
                },
            }
            if fifo:  # as for SQS FIFO queues: a resend of the same message within five minutes is dropped
                group = item.group_id or DEFAULT_GROUP
                entry["MessageGroupId"] = group
                entry["MessageDeduplicationId"] = hashlib.sha256(f"{group}\n{item.body}".encode()).hexdigest()
            entries.append(entry)
        response = await aws.call(self._client.publish_batch, TopicArn=topic, PublishBatchRequestEntries=entries)
        results: list[str | Exception] = [TransportError("no result for this batch entry")] * len(items)
        for ok in response.get("Successful", []):
            results[int(ok["Id"])] = ok["MessageId"]
        for failed in response.get("Failed", []):
            results[int(failed["Id"])] = TransportError(f"AWS error {failed.get('Code')}: {failed.get('Message', '')}")
        return results


# -- synchronous helpers (shared with provision) --------------------------


def find_subscription(*, client: Any, topic: str, queue_arn: str) -> dict[str, str] | None:
    """Attributes of the SQS subscription of `queue_arn` to `topic`, or None. Synchronous."""
    kwargs: dict[str, str] = {"TopicArn": topic}
    while True:
        page = client.list_subscriptions_by_topic(**kwargs)
        for subscription in page.get("Subscriptions", []):
            if subscription.get("Protocol") == "sqs" and subscription.get("Endpoint") == queue_arn:
                arn = subscription["SubscriptionArn"]
                if arn in ("PendingConfirmation", "Deleted"):
                    return {"SubscriptionArn": arn}
                return client.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        token = page.get("NextToken")
        if not token:
            return None
        kwargs["NextToken"] = token


@dataclass(frozen=True)
class AttributeFilter:
    """What a subscription's filter policy lets through for one string attribute: exact values or prefixes."""

    exact: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def admits(self, value: str) -> bool:
        return value in self.exact or any(value.startswith(prefix) for prefix in self.prefixes)

    def describe(self) -> str:
        """The allowed values in words: ``'p-client-1'`` or ``starting with 'p-client-1.'``."""
        parts = [repr(value) for value in self.exact] + [f"starting with {prefix!r}" for prefix in self.prefixes]
        return " or ".join(parts)


def attribute_filter(subscription: dict[str, str], attribute: str) -> AttributeFilter | None:
    """What a subscription's filter policy allows for the string attribute `attribute`.

    Understands exact values (``["a", "b"]``) and prefixes (``[{"prefix": "p-"}]``),
    the two forms `provision` writes. None when the policy does not filter on the
    attribute, or uses other operators (anything-but, suffix, ...) we do not
    interpret: the caller then cannot tell, and should not refuse.
    """
    text = subscription.get("FilterPolicy")
    if not text or subscription.get("FilterPolicyScope", "MessageAttributes") != "MessageAttributes":
        return None
    try:
        policy = json.loads(text)
    except ValueError:
        return None
    rules = policy.get(attribute) if isinstance(policy, dict) else None
    if not isinstance(rules, list) or not rules:
        return None
    exact: list[str] = []
    prefixes: list[str] = []
    for rule in rules:
        if isinstance(rule, str):
            exact.append(rule)
        elif isinstance(rule, dict) and list(rule) == ["prefix"] and isinstance(rule["prefix"], str):
            prefixes.append(rule["prefix"])
        else:
            return None
    return AttributeFilter(tuple(exact), tuple(prefixes))
