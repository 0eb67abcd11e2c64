"""Make a `Plan` real, idempotently, and note which of its resources the run created.

Each resource is looked up before anything is written: what exists and
matches is left alone (``exists`` when this profile made it, ``reuse`` when
it was there before), what exists but differs is corrected (``update``: a
redrive policy, a queue policy statement, raw delivery, a filter policy), and
only what is missing is created (``create``), tagged with the profile's name
(see `asyncmcp_cli.provision.ownership`).

One thing is refused rather than corrected: changing a subscription this
profile did not create (another profile's clients may depend on its filter
policy), unless the caller passes `replace_subscription`. The check runs
before anything is written, so a refused run changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from asyncmcp_cli import aws
from asyncmcp_cli.aws.sns_topics import find_subscription
from asyncmcp_cli.errors import ConfigurationError, TransportError
from asyncmcp_cli.provision import policies
from asyncmcp_cli.provision.lookups import Lookups, call, tag_list
from asyncmcp_cli.provision.ownership import tagged_for, tags_for
from asyncmcp_cli.provision.plan import Bucket, Plan, Queue, Resource, Subscription, Topic
from asyncmcp_cli.provision.targets import Target


@dataclass(frozen=True)
class Step:
    """What happened (or, in a dry run, would happen) to one resource.

    Provisioning: create, exists, update, reuse. Teardown: delete, keep, absent.
    """

    action: str
    kind: str
    name: str
    detail: str = ""
    """What it is, or why it is kept."""
    id: str | None = None
    """Its URL or ARN, where it has one."""
    owned: bool = False
    """Created by this profile (or handed to it), so its teardown may delete it."""


@dataclass
class Outcome:
    target: Target
    account: str
    steps: list[Step] = field(default_factory=list)
    queue_urls: dict[str, str] = field(default_factory=dict)
    topic_arns: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None


OnStep = Callable[[Step], None]


def apply(
    target: Target,
    plan: Plan,
    account: str,
    *,
    profile: str,
    owned_before: Collection[str] = (),
    replace_subscription: bool = False,
    on_step: OnStep | None = None,
) -> Outcome:
    """Create or correct every resource of the plan, in order, for `profile`.

    `owned_before`: ids (subscription ARNs) the profile's earlier runs created;
    subscriptions cannot carry tags, so this is how a rerun knows they are its own.
    """
    worker = _Worker(target, account, profile, set(owned_before))
    if not replace_subscription:
        worker.refuse_foreign_subscription_changes(plan)
    for resource in plan.resources:
        step = worker.ensure(resource)
        worker.outcome.steps.append(step)
        if on_step is not None:
            on_step(step)
    return worker.outcome


def _action(*, created: bool, changed: bool, owned: bool) -> str:
    if created:
        return "create"
    if changed:
        return "update"
    return "exists" if owned else "reuse"


class _Worker(Lookups):
    def __init__(self, target: Target, account: str, profile: str, owned_before: set[str]) -> None:
        super().__init__(target, account)
        self.profile = profile
        self.owned_before = owned_before
        self.outcome = Outcome(target, account)

    def ensure(self, resource: Resource) -> Step:
        if isinstance(resource, Queue):
            return self._ensure_queue(resource)
        if isinstance(resource, Topic):
            return self._ensure_topic(resource)
        if isinstance(resource, Subscription):
            return self._ensure_subscription(resource)
        return self._ensure_bucket(resource)

    # -- queues -----------------------------------------------------------

    def _ensure_queue(self, queue: Queue) -> Step:
        wanted: dict[str, str] = {}
        if queue.dlq:
            wanted["RedrivePolicy"] = policies.redrive_policy(self.queue_arn(queue.dlq), queue.max_receive_count)
        if queue.retention_seconds:
            wanted["MessageRetentionPeriod"] = str(queue.retention_seconds)
        url = self.queue_url(queue.name)
        created = changed = False
        if url is None:
            attributes = wanted | ({"FifoQueue": "true"} if queue.fifo else {})
            kwargs: dict[str, Any] = {"Attributes": attributes} if attributes else {}
            url = call(self.sqs.create_queue, QueueName=queue.name, tags=tags_for(self.profile), **kwargs)["QueueUrl"]
            created = owned = True
        else:
            owned = tagged_for(self.queue_tags(url), self.profile)
            current = call(
                self.sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["RedrivePolicy", "MessageRetentionPeriod"]
            ).get("Attributes", {})
            if not policies.same_redrive(current.get("RedrivePolicy"), wanted.get("RedrivePolicy")):
                redrive = wanted.get("RedrivePolicy", "")
                call(self.sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": redrive})
                changed = True
            retention = wanted.get("MessageRetentionPeriod")
            if retention and current.get("MessageRetentionPeriod") != retention:
                call(self.sqs.set_queue_attributes, QueueUrl=url, Attributes={"MessageRetentionPeriod": retention})
                changed = True
        self.outcome.queue_urls[queue.name] = url
        action = _action(created=created, changed=changed, owned=owned)
        return Step(action, "queue", queue.name, queue.describe(), url, owned)

    # -- topics -----------------------------------------------------------

    def _ensure_topic(self, topic: Topic) -> Step:
        arn = self.topic_arn(topic.name)
        created = False
        if self.topic_exists(arn):
            owned = tagged_for(self.topic_tags(arn), self.profile)
        else:
            kwargs: dict[str, Any] = {"Attributes": {"FifoTopic": "true"}} if topic.fifo else {}
            tags = tag_list(tags_for(self.profile))
            arn = call(self.sns.create_topic, Name=topic.name, Tags=tags, **kwargs)["TopicArn"]
            created = owned = True
        self.outcome.topic_arns[topic.name] = arn
        action = _action(created=created, changed=False, owned=owned)
        return Step(action, "topic", topic.name, topic.describe(), arn, owned)

    # -- subscriptions ----------------------------------------------------

    def _current_subscription(self, sub: Subscription) -> dict[str, str] | None:
        topic = self.outcome.topic_arns.get(sub.topic) or self.topic_arn(sub.topic)
        try:
            return call(find_subscription, client=self.sns, topic=topic, queue_arn=self.queue_arn(sub.queue))
        except TransportError as exc:
            if aws.error_code(exc) in {"NotFound", "NotFoundException"}:  # no topic yet, so no subscription
                return None
            raise

    def refuse_foreign_subscription_changes(self, plan: Plan) -> None:
        """Fail, before anything is written, if the plan would change a subscription this profile did not make."""
        for sub in plan.resources:
            if not isinstance(sub, Subscription):
                continue
            current = self._current_subscription(sub)
            if current is None or current["SubscriptionArn"] in self.owned_before:
                continue
            changes = _changes(current, sub)
            if changes:
                raise ConfigurationError(
                    f"subscription {sub.name} already exists and profile {self.profile!r} did not create it; "
                    f"this run would change its {' and '.join(changes)}, which whoever uses it may depend on. "
                    "Pick another --prefix, or pass --replace-subscription to change it anyway"
                )

    def _ensure_subscription(self, sub: Subscription) -> Step:
        topic = self.outcome.topic_arns.get(sub.topic) or self.topic_arn(sub.topic)
        queue_url = self.outcome.queue_urls.get(sub.queue) or self.queue_url(sub.queue)
        if queue_url is None:
            raise ConfigurationError(f"queue {sub.queue!r} vanished while provisioning; run provision again")
        queue_arn = self.queue_arn(sub.queue)
        changed = self._allow_topic(queue_url, queue_arn, topic)
        raw = "true" if sub.raw_delivery else "false"
        current = self._current_subscription(sub)
        if current is None:
            attributes = {"RawMessageDelivery": raw}
            if sub.filter_policy:
                attributes["FilterPolicy"] = json.dumps(sub.filter_policy)
            arn = call(
                self.sns.subscribe,
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            return Step("create", "subscription", sub.name, sub.describe(), arn, owned=True)
        arn = current["SubscriptionArn"]
        owned = arn in self.owned_before
        if current.get("RawMessageDelivery", "false").lower() != raw:
            self._set_subscription(arn, "RawMessageDelivery", raw)
            changed = True
        if _filter_of(current) != sub.filter_policy:
            self._set_subscription(arn, "FilterPolicy", json.dumps(sub.filter_policy or {}))
            changed = True
        action = _action(created=False, changed=changed, owned=owned)
        return Step(action, "subscription", sub.name, sub.describe(), arn, owned)

    def _allow_topic(self, queue_url: str, queue_arn: str, topic: str) -> bool:
        """Add the statement that lets the topic deliver to the queue; True if the policy changed."""
        current = call(self.sqs.get_queue_attributes, QueueUrl=queue_url, AttributeNames=["Policy"])
        policy = policies.with_topic_statement(current.get("Attributes", {}).get("Policy"), queue_arn, topic)
        if policy is None:
            return False
        call(self.sqs.set_queue_attributes, QueueUrl=queue_url, Attributes={"Policy": policy})
        return True

    def _set_subscription(self, arn: str, name: str, value: str) -> None:
        call(self.sns.set_subscription_attributes, SubscriptionArn=arn, AttributeName=name, AttributeValue=value)

    # -- bucket -----------------------------------------------------------

    def _ensure_bucket(self, bucket: Bucket) -> Step:
        name = bucket.name_for(self.outcome.account)
        self.outcome.bucket = name
        created = False
        if self.bucket_exists(name):
            owned = tagged_for(self.bucket_tags(name), self.profile)
        else:
            kwargs: dict[str, Any] = {}
            if self.target.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.target.region}
            call(self.s3.create_bucket, Bucket=name, **kwargs)
            self.tag("bucket", name, tags_for(self.profile))
            created = owned = True
        changed = self._ensure_expiry(name)
        action = _action(created=created, changed=changed, owned=owned)
        return Step(action, "bucket", name, bucket.describe(), name, owned)

    def _ensure_expiry(self, name: str) -> bool:
        """Lifecycle rules that delete leftover payloads and stored responses; True if any had to be set."""
        try:
            rules = call(self.s3.get_bucket_lifecycle_configuration, Bucket=name).get("Rules", [])
        except TransportError as exc:
            if aws.error_code(exc) != "NoSuchLifecycleConfiguration":
                raise
            rules = []
        wanted = policies.expiry_rules()
        if all(any(policies.same_rule(rule, w) for rule in rules) for w in wanted):
            return False
        ours = {w["ID"] for w in wanted}
        others = [rule for rule in rules if rule.get("ID") not in ours]
        call(
            self.s3.put_bucket_lifecycle_configuration,
            Bucket=name,
            LifecycleConfiguration={"Rules": [*others, *wanted]},
        )
        return True


def _changes(current: dict[str, str], sub: Subscription) -> list[str]:
    """What provisioning `sub` would change on the existing subscription `current`."""
    changes = []
    if current.get("RawMessageDelivery", "false").lower() != ("true" if sub.raw_delivery else "false"):
        changes.append("raw delivery")
    if _filter_of(current) != sub.filter_policy:
        before = json.dumps(_filter_of(current)) if _filter_of(current) else "none"
        after = json.dumps(sub.filter_policy) if sub.filter_policy else "none"
        changes.append(f"filter policy ({before} → {after})")
    return changes


def _filter_of(subscription: dict[str, str]) -> dict[str, Any] | None:
    text = subscription.get("FilterPolicy")
    if not text:
        return None
    try:
        policy = json.loads(text)
    except ValueError:
        return {"?": text}
    return policy or None
