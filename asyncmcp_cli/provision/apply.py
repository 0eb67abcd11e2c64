"""Make a `Plan` real, or take it down, idempotently.

Each resource is looked up before anything is written: what exists and
matches is left alone (``exists``), what exists but differs is corrected
(``update``: a redrive policy, a queue policy statement, raw delivery, a
filter policy), and only what is missing is created. Teardown deletes what
the plan names and reports what was already gone.

Synchronous (it is a one-shot command); botocore errors are mapped to the
`AsyncMCPError` tree like everywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import botocore.exceptions

from asyncmcp_cli import aws
from asyncmcp_cli.errors import ConfigurationError, QueueNotFoundError, TransportError
from asyncmcp_cli.provision import policies
from asyncmcp_cli.provision.plan import Bucket, Plan, Queue, Resource, Subscription, Topic
from asyncmcp_cli.provision.targets import Target
from asyncmcp_cli.sns_topics import find_subscription, topic_arn

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """What happened to one resource: create, exists, update, delete, absent or keep."""

    action: str
    kind: str
    name: str
    detail: str = ""
    id: str | None = None
    """Its URL or ARN, where it has one."""


@dataclass
class Outcome:
    target: Target
    account: str
    steps: list[Step] = field(default_factory=list)
    queue_urls: dict[str, str] = field(default_factory=dict)
    topic_arns: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None


OnStep = Callable[[Step], None]


def apply(target: Target, plan: Plan, account: str, *, on_step: OnStep | None = None) -> Outcome:
    """Create or correct every resource of the plan, in order."""
    worker = _Worker(target, account)
    for resource in plan.resources:
        step = worker.ensure(resource)
        worker.outcome.steps.append(step)
        if on_step is not None:
            on_step(step)
    return worker.outcome


def teardown(target: Target, plan: Plan, account: str, *, on_step: OnStep | None = None) -> Outcome:
    """Delete every resource of the plan, in reverse order; missing ones are reported, not errors."""
    worker = _Worker(target, account)
    for resource in reversed(plan.resources):
        step = worker.remove(resource)
        worker.outcome.steps.append(step)
        if on_step is not None:
            on_step(step)
    return worker.outcome


def _call(fn: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fn(**kwargs)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise aws.map_error(exc) from exc


class _Worker:
    def __init__(self, target: Target, account: str) -> None:
        self.target = target
        self.outcome = Outcome(target, account)
        self.sqs = target.client("sqs")
        self.sns = target.client("sns")
        self._partition = boto3.session.Session().get_partition_for_region(target.region)

    # -- dispatch ---------------------------------------------------------

    def ensure(self, resource: Resource) -> Step:
        if isinstance(resource, Queue):
            return self._ensure_queue(resource)
        if isinstance(resource, Topic):
            return self._ensure_topic(resource)
        if isinstance(resource, Subscription):
            return self._ensure_subscription(resource)
        return self._ensure_bucket(resource)

    def remove(self, resource: Resource) -> Step:
        if isinstance(resource, Queue):
            return self._remove_queue(resource)
        if isinstance(resource, Topic):
            return self._remove_topic(resource)
        if isinstance(resource, Subscription):
            return self._remove_subscription(resource)
        return self._remove_bucket(resource)

    # -- queues -----------------------------------------------------------

    def _queue_url(self, name: str) -> str | None:
        try:
            return _call(self.sqs.get_queue_url, QueueName=name)["QueueUrl"]
        except QueueNotFoundError:
            return None

    def _queue_arn(self, name: str) -> str:
        return f"arn:{self._partition}:sqs:{self.target.region}:{self.outcome.account}:{name}"

    def _ensure_queue(self, queue: Queue) -> Step:
        wanted: dict[str, str] = {}
        if queue.dlq:
            wanted["RedrivePolicy"] = policies.redrive_policy(self._queue_arn(queue.dlq), queue.max_receive_count)
        if queue.retention_seconds:
            wanted["MessageRetentionPeriod"] = str(queue.retention_seconds)
        url = self._queue_url(queue.name)
        if url is None:
            attributes = wanted | ({"FifoQueue": "true"} if queue.fifo else {})
            kwargs: dict[str, Any] = {"Attributes": attributes} if attributes else {}
            url = _call(self.sqs.create_queue, QueueName=queue.name, **kwargs)["QueueUrl"]
            action = "create"
        else:
            current = _call(
                self.sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["RedrivePolicy", "MessageRetentionPeriod"]
            ).get("Attributes", {})
            action = "exists"
            if not policies.same_redrive(current.get("RedrivePolicy"), wanted.get("RedrivePolicy")):
                redrive = wanted.get("RedrivePolicy", "")
                _call(self.sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": redrive})
                action = "update"
            retention = wanted.get("MessageRetentionPeriod")
            if retention and current.get("MessageRetentionPeriod") != retention:
                _call(self.sqs.set_queue_attributes, QueueUrl=url, Attributes={"MessageRetentionPeriod": retention})
                action = "update"
        self.outcome.queue_urls[queue.name] = url
        return Step(action, "queue", queue.name, queue.describe(), url)

    def _remove_queue(self, queue: Queue) -> Step:
        url = self._queue_url(queue.name)
        if url is None:
            return Step("absent", "queue", queue.name)
        _call(self.sqs.delete_queue, QueueUrl=url)
        return Step("delete", "queue", queue.name, id=url)

    # -- topics -----------------------------------------------------------

    def _topic_arn(self, name: str) -> str:
        return topic_arn(name, region=self.target.region, account=self.outcome.account)

    def _topic_exists(self, arn: str) -> bool:
        try:
            _call(self.sns.get_topic_attributes, TopicArn=arn)
        except TransportError as exc:
            if aws.error_code(exc) in {"NotFound", "NotFoundException"}:
                return False
            raise
        return True

    def _ensure_topic(self, topic: Topic) -> Step:
        arn = self._topic_arn(topic.name)
        action = "exists"
        if not self._topic_exists(arn):
            kwargs: dict[str, Any] = {"Attributes": {"FifoTopic": "true"}} if topic.fifo else {}
            arn = _call(self.sns.create_topic, Name=topic.name, **kwargs)["TopicArn"]
            action = "create"
        self.outcome.topic_arns[topic.name] = arn
        return Step(action, "topic", topic.name, topic.describe(), arn)

    def _remove_topic(self, topic: Topic) -> Step:
        arn = self._topic_arn(topic.name)
        if not self._topic_exists(arn):
            return Step("absent", "topic", topic.name)
        _call(self.sns.delete_topic, TopicArn=arn)
        return Step("delete", "topic", topic.name, id=arn)

    # -- subscriptions ----------------------------------------------------

    def _ensure_subscription(self, sub: Subscription) -> Step:
        topic = self.outcome.topic_arns.get(sub.topic) or self._topic_arn(sub.topic)
        queue_url = self.outcome.queue_urls.get(sub.queue) or self._queue_url(sub.queue)
        if queue_url is None:
            raise ConfigurationError(f"queue {sub.queue!r} vanished while provisioning; run provision again")
        queue_arn = self._queue_arn(sub.queue)
        changed = self._allow_topic(queue_url, queue_arn, topic)
        raw = "true" if sub.raw_delivery else "false"
        current = _call(find_subscription, client=self.sns, topic=topic, queue_arn=queue_arn)
        if current is None:
            attributes = {"RawMessageDelivery": raw}
            if sub.filter_policy:
                attributes["FilterPolicy"] = json.dumps(sub.filter_policy)
            arn = _call(
                self.sns.subscribe,
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            return Step("create", "subscription", sub.name, sub.describe(), arn)
        arn = current["SubscriptionArn"]
        if current.get("RawMessageDelivery", "false").lower() != raw:
            self._set_subscription(arn, "RawMessageDelivery", raw)
            changed = True
        if _filter_of(current) != sub.filter_policy:
            self._set_subscription(arn, "FilterPolicy", json.dumps(sub.filter_policy or {}))
            changed = True
        return Step("update" if changed else "exists", "subscription", sub.name, sub.describe(), arn)

    def _allow_topic(self, queue_url: str, queue_arn: str, topic: str) -> bool:
        """Add the statement that lets the topic deliver to the queue; True if the policy changed."""
        current = _call(self.sqs.get_queue_attributes, QueueUrl=queue_url, AttributeNames=["Policy"])
        policy = policies.with_topic_statement(current.get("Attributes", {}).get("Policy"), queue_arn, topic)
        if policy is None:
            return False
        _call(self.sqs.set_queue_attributes, QueueUrl=queue_url, Attributes={"Policy": policy})
        return True

    def _set_subscription(self, arn: str, name: str, value: str) -> None:
        _call(self.sns.set_subscription_attributes, SubscriptionArn=arn, AttributeName=name, AttributeValue=value)

    def _remove_subscription(self, sub: Subscription) -> Step:
        topic = self._topic_arn(sub.topic)
        try:
            current = _call(find_subscription, client=self.sns, topic=topic, queue_arn=self._queue_arn(sub.queue))
        except TransportError as exc:
            if aws.error_code(exc) in {"NotFound", "NotFoundException"}:  # the topic is gone, and with it this
                return Step("absent", "subscription", sub.name)
            raise
        if current is None:
            return Step("absent", "subscription", sub.name)
        _call(self.sns.unsubscribe, SubscriptionArn=current["SubscriptionArn"])
        return Step("delete", "subscription", sub.name, id=current["SubscriptionArn"])

    # -- bucket -----------------------------------------------------------

    def _bucket_exists(self, name: str) -> bool:
        try:
            _call(self.target.client("s3").head_bucket, Bucket=name)
        except TransportError as exc:
            code = aws.error_code(exc)
            if code in {"404", "NoSuchBucket", "NotFound"}:
                return False
            if code in {"403", "AccessDenied"}:
                raise ConfigurationError(
                    f"bucket name {name!r} is taken by another account; pick another --prefix"
                ) from exc
            raise
        return True

    def _ensure_bucket(self, bucket: Bucket) -> Step:
        name = bucket.name_for(self.outcome.account)
        self.outcome.bucket = name
        s3 = self.target.client("s3")
        action = "exists"
        if not self._bucket_exists(name):
            kwargs: dict[str, Any] = {}
            if self.target.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.target.region}
            _call(s3.create_bucket, Bucket=name, **kwargs)
            action = "create"
        if self._ensure_expiry(s3, name) and action == "exists":
            action = "update"
        return Step(action, "bucket", name, bucket.describe(), name)

    def _ensure_expiry(self, s3: Any, name: str) -> bool:
        """Lifecycle rules that delete leftover payloads and stored responses; True if any had to be set."""
        try:
            rules = _call(s3.get_bucket_lifecycle_configuration, Bucket=name).get("Rules", [])
        except TransportError as exc:
            if aws.error_code(exc) != "NoSuchLifecycleConfiguration":
                raise
            rules = []
        wanted = policies.expiry_rules()
        if all(any(policies.same_rule(rule, w) for rule in rules) for w in wanted):
            return False
        ours = {w["ID"] for w in wanted}
        others = [rule for rule in rules if rule.get("ID") not in ours]
        _call(s3.put_bucket_lifecycle_configuration, Bucket=name, LifecycleConfiguration={"Rules": [*others, *wanted]})
        return True

    def _remove_bucket(self, bucket: Bucket) -> Step:
        name = bucket.name_for(self.outcome.account)
        s3 = self.target.client("s3")
        if not self._bucket_exists(name):
            return Step("absent", "bucket", name)
        if _call(s3.list_objects_v2, Bucket=name, MaxKeys=1).get("KeyCount", 0):
            return Step("keep", "bucket", name, "not empty: kept; empty it and run teardown again", name)
        _call(s3.delete_bucket, Bucket=name)
        return Step("delete", "bucket", name, id=name)


def _filter_of(subscription: dict[str, str]) -> dict[str, Any] | None:
    text = subscription.get("FilterPolicy")
    if not text:
        return None
    try:
        policy = json.loads(text)
    except ValueError:
        return {"?": text}
    return policy or None
