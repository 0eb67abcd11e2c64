"""What `provision` makes, as data: a `Spec` (the user's choices) becomes a `Plan` (resources in order).

Building a plan touches no AWS API, so ``--dry-run`` can print it anywhere.
Resources are listed in creation order (dead-letter queues before the queues
that point at them, topics and queues before their subscriptions); teardown
walks the list backwards.

Names, for prefix ``P`` (``.fifo`` appended to queues and topics with ``--fifo``):

=====================  ============================================================
``sqs``                queues ``P-requests`` (DLQ ``P-requests-dlq``), ``P-replies``
``sns+sqs``            topic ``P-requests``; server queues ``P-sns-requests[-N]``
                       (each with DLQ ``...-dlq``) subscribed to it; reply topic
                       ``P-replies`` shared by clients whose queues
                       ``P-sns-replies[-N]`` filter on a client id prefix
                       ``P-client-N.`` (or, with ``sns_replies="topic"``, one
                       reply topic ``P-replies[-N]`` per client, unfiltered)
tap (``--tap``)        topic ``P-tap`` (standard, also with ``--fifo``): servers and
                       clients publish a copy of what they send there, and
                       ``tail --follow`` reads the copies through a temporary queue
bucket                 ``P-payloads-ACCOUNT`` (optional, for large payloads and the
                       ``s3://`` result cache)
=====================  ============================================================

A reply queue filters on a prefix, not on one fixed id: every client session
reading it (a `connect`, each proxy session, a fire-and-collect) takes a fresh
random id under the prefix, so any number of them can share the queue, and an
id cannot be guessed and squatted. The trailing dot keeps ``P-client-1.`` from
admitting the ids of ``P-client-10.``.

Reply queues get no DLQ: a client that hands back another client's message
raises its receive count, and a redrive policy would dead-letter it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from asyncmcp_cli.delivery.reply_expiry import REPLY_RETENTION_SECONDS
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.protocol.routing_attributes import CLIENT_ID

TRANSPORTS = ("sqs", "sns+sqs")
SnsReplies = Literal["shared", "topic"]
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class Spec:
    """The choices behind a plan (stored in the profile, so teardown can rebuild it)."""

    prefix: str = "asyncmcp"
    transports: tuple[str, ...] = TRANSPORTS
    fifo: bool = False
    max_receive_count: int = 5
    """Receives before a request is dead-lettered; 0 makes no dead-letter queues."""
    bucket: bool = False
    raw_delivery: bool = True
    sns_replies: SnsReplies = "shared"
    servers: int = 1
    clients: int = 1
    tap: bool = False
    """Make a tap topic (`asyncmcp_cli.tap`) and have the profile's peers copy what they send to it."""

    def validate(self) -> Spec:
        if not _PREFIX.match(self.prefix):
            raise ConfigurationError(
                f"prefix {self.prefix!r} must be 1-40 lowercase letters, digits or hyphens, starting with a letter "
                "or digit (it names queues, topics and a bucket)"
            )
        unknown = sorted(set(self.transports) - set(TRANSPORTS))
        if unknown or not self.transports:
            raise ConfigurationError(f"transports must be among {', '.join(TRANSPORTS)}; got {', '.join(unknown)}")
        if not 0 <= self.max_receive_count <= 1000:
            raise ConfigurationError("max receive count must be between 0 (no DLQ) and 1000")
        if self.sns_replies not in ("shared", "topic"):
            raise ConfigurationError(f"sns replies must be 'shared' or 'topic', not {self.sns_replies!r}")
        if not (1 <= self.servers <= 10 and 1 <= self.clients <= 10):
            raise ConfigurationError("servers and clients must be between 1 and 10")
        return self


@dataclass(frozen=True)
class Queue:
    name: str
    role: str | None = None
    dlq: str | None = None
    max_receive_count: int = 0
    retention_seconds: int | None = None
    """MessageRetentionPeriod; reply queues get one, the outer bound on answers nobody collects."""
    kind: str = field(default="queue", init=False)

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")

    def describe(self) -> str:
        parts = ["FIFO"] if self.fifo else []
        if self.dlq:
            parts.append(f"DLQ {self.dlq} after {self.max_receive_count} receives")
        if self.retention_seconds:
            parts.append(f"messages kept {self.retention_seconds // 3600} h at most")
        return ", ".join(parts)


@dataclass(frozen=True)
class Topic:
    name: str
    role: str | None = None
    kind: str = field(default="topic", init=False)

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")

    def describe(self) -> str:
        return "FIFO" if self.fifo else ""


@dataclass(frozen=True)
class Subscription:
    topic: str
    queue: str
    raw_delivery: bool
    client_id_prefix: str | None = None
    """Filter the topic to messages whose client id attribute starts with this."""
    role: str | None = None
    kind: str = field(default="subscription", init=False)

    @property
    def name(self) -> str:
        return f"{self.topic} → {self.queue}"

    @property
    def filter_policy(self) -> dict[str, list[dict[str, str]]] | None:
        return {CLIENT_ID: [{"prefix": self.client_id_prefix}]} if self.client_id_prefix else None

    def describe(self) -> str:
        parts = ["raw delivery" if self.raw_delivery else "SNS envelopes"]
        if self.client_id_prefix:
            parts.append(f"filter {CLIENT_ID}={self.client_id_prefix}*")
        parts.append("queue policy lets the topic send")
        return ", ".join(parts)


@dataclass(frozen=True)
class Bucket:
    base: str
    role: str | None = "bucket"
    kind: str = field(default="bucket", init=False)

    @property
    def name(self) -> str:
        return f"{self.base}-<account>"

    def name_for(self, account: str) -> str:
        return f"{self.base}-{account}"

    def describe(self) -> str:
        return "for payloads over the message size limit; leftovers expire after a day"


Resource = Queue | Topic | Subscription | Bucket


@dataclass(frozen=True)
class ClientRoute:
    """Where one SNS+SQS client publishes and reads."""

    client_id_prefix: str | None
    """What the ids of this route's clients start with (None: any id, its reply topic is its own)."""
    reply_topic: str
    reply_queue: str


@dataclass(frozen=True)
class Plan:
    spec: Spec
    resources: tuple[Resource, ...]
    server_queues: tuple[str, ...] = ()
    clients: tuple[ClientRoute, ...] = ()


def build_plan(spec: Spec) -> Plan:
    spec.validate()
    resources: list[Resource] = []
    suffix = ".fifo" if spec.fifo else ""

    def name(base: str, index: int = 1) -> str:
        return f"{spec.prefix}-{base}{'' if index == 1 else f'-{index}'}{suffix}"

    def with_dlq(queue: str, role: str, dlq_role: str | None) -> None:
        if spec.max_receive_count:
            dlq = queue.removesuffix(suffix) + "-dlq" + suffix
            resources.append(Queue(dlq, role=dlq_role))
            resources.append(Queue(queue, role=role, dlq=dlq, max_receive_count=spec.max_receive_count))
        else:
            resources.append(Queue(queue, role=role))

    if "sqs" in spec.transports:
        with_dlq(name("requests"), "requests", "dlq")
        resources.append(Queue(name("replies"), role="replies", retention_seconds=REPLY_RETENTION_SECONDS))

    servers: list[str] = []
    clients: list[ClientRoute] = []
    if "sns+sqs" in spec.transports:
        request_topic = name("requests")
        resources.append(Topic(request_topic, role="request-topic"))
        for index in range(1, spec.servers + 1):
            queue = name("sns-requests", index)
            servers.append(queue)
            numbered = "" if index == 1 else f"-{index}"
            with_dlq(queue, f"sns-requests{numbered}", f"sns-dlq{numbered}")
            resources.append(Subscription(request_topic, queue, spec.raw_delivery))
        if spec.sns_replies == "shared":
            resources.append(Topic(name("replies"), role="reply-topic"))
        for index in range(1, spec.clients + 1):
            shared = spec.sns_replies == "shared"
            topic = name("replies") if shared else name("replies", index)
            if not shared:
                resources.append(Topic(topic, role="reply-topic" if index == 1 else None))
            queue = name("sns-replies", index)
            id_prefix = f"{spec.prefix}-client-{index}." if shared else None
            role = "sns-replies" if index == 1 else f"sns-replies-{index}"
            resources.append(Queue(queue, role=role, retention_seconds=REPLY_RETENTION_SECONDS))
            resources.append(Subscription(topic, queue, spec.raw_delivery, client_id_prefix=id_prefix))
            clients.append(ClientRoute(id_prefix, topic, queue))

    if spec.tap:  # a standard topic: tail orders the copies by their send time, and needs no FIFO queue
        resources.append(Topic(f"{spec.prefix}-tap", role="tap-topic"))
    if spec.bucket:
        resources.append(Bucket(f"{spec.prefix}-payloads"))
    return Plan(spec, tuple(resources), tuple(servers), tuple(clients))
