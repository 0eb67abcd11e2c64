"""What a queue message says, for people: kind, method, id, client, size, receive count.

Decoding never fails: a body that is not JSON, or JSON that is not JSON-RPC,
becomes an ``invalid`` observation that keeps the body and says what is wrong
with it. SNS envelopes are unwrapped (`asyncmcp_cli.aws.sns_envelope`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from asyncmcp_cli import tap
from asyncmcp_cli.aws import sns_envelope
from asyncmcp_cli.aws.sns_topics import is_topic_arn, topic_name_of
from asyncmcp_cli.aws.sqs_queues import Received, queue_name_of
from asyncmcp_cli.delivery import reply_expiry
from asyncmcp_cli.protocol import codec

KINDS = ("request", "notification", "response", "error", "invalid")


@dataclass(frozen=True)
class Observed:
    """One queue message as `tail` shows it."""

    queue: str
    queue_url: str
    message_id: str
    sent_at_ms: int | None
    receive_count: int
    size: int
    """Bytes of the MCP message (the unwrapped body)."""
    kind: str
    method: str | None
    id: str | int | None
    client_id: str | None
    reply_to: str | None
    body: str
    """The MCP message as text (unwrapped from an SNS envelope)."""
    raw_body: str
    """The queue message body exactly as received."""
    attributes: dict[str, str]
    topic_arn: str | None = None
    """The topic it was published to, when it arrived in an SNS envelope."""
    problem: str | None = None
    """Why it is ``invalid``: not JSON, or JSON that is not JSON-RPC."""
    paired_method: str | None = None
    """For a response: the method of the request it answers, when that request was seen."""
    latency_ms: int | None = None
    """For a response: time from its request being sent to it being sent."""
    expires_at: float | None = None
    """When nobody will collect it any more (epoch seconds; `reply_expiry`), if stamped."""
    orphaned: bool = False
    """Expired, or received so often that no live client is taking it."""
    tapped: bool = False
    """A tap's copy (`asyncmcp_cli.tap`): `queue` is where the original went; its receive count is unknown."""

    @property
    def sent_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.sent_at_ms / 1000, tz=timezone.utc) if self.sent_at_ms else None

    @property
    def shown_method(self) -> str | None:
        return self.method or self.paired_method

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for NDJSON output (the body parsed, when it is JSON)."""
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body
        sent = self.sent_at
        return {
            "queue": self.queue,
            "message_id": self.message_id,
            "sent_at": sent.isoformat(timespec="milliseconds") if sent else None,
            "kind": self.kind,
            "method": self.shown_method,
            "id": self.id,
            "client_id": self.client_id,
            "reply_to": self.reply_to,
            "size": self.size,
            "receive_count": None if self.tapped else self.receive_count,
            "latency_ms": self.latency_ms,
            "expires_at": self.expires_at,
            "orphaned": self.orphaned,
            "topic_arn": self.topic_arn,
            "tapped": self.tapped,
            "problem": self.problem,
            "attributes": self.attributes,
            "body": body,
        }


def decode(received: Received) -> Observed:
    envelope = sns_envelope.parse(received.body)
    body, attributes = sns_envelope.unwrap(received)
    kind, method, rid, problem, message = _classify(body)
    routing = codec.routing_from(attributes, message)
    return Observed(
        queue=queue_name_of(received.queue_url),
        queue_url=received.queue_url,
        message_id=received.message_id,
        sent_at_ms=received.sent_at_ms,
        receive_count=received.receive_count,
        size=len(body.encode()),
        kind=kind,
        method=method or attributes.get(codec.METHOD),
        id=rid,
        client_id=routing.client_id,
        reply_to=routing.reply_to,
        body=body,
        raw_body=received.body,
        attributes=attributes,
        topic_arn=envelope.topic_arn if envelope else None,
        problem=problem,
        expires_at=reply_expiry.expires_at(attributes),
        orphaned=reply_expiry.is_orphaned(attributes, received.receive_count),
    )


def decode_tapped(received: Received) -> Observed:
    """A copy read from a tap queue, shown as the original: where it went and when it was sent.

    Both come from attributes the sending peer set; like the rest of the
    message they are untrusted, and only shown (escaped) and sorted on.
    """
    observed = decode(received)
    attributes = dict(observed.attributes)
    to = attributes.pop(tap.TO, "")
    sent = attributes.pop(tap.SENT_AT, "")
    sent_at_ms = int(sent) if sent.isdigit() and len(sent) <= 15 else received.sent_at_ms
    return dataclasses.replace(
        observed,
        queue=(topic_name_of(to) if is_topic_arn(to) else queue_name_of(to)) or "?",
        queue_url=to,
        sent_at_ms=sent_at_ms,
        attributes=attributes,
        topic_arn=to if is_topic_arn(to) else None,
        receive_count=0,
        orphaned=False,
        tapped=True,
    )


def _classify(body: str) -> tuple[str, str | None, str | int | None, str | None, Any]:
    """(kind, method, id, problem, decoded message or None)."""
    try:
        message = codec.decode(body)
    except codec.DecodeError:
        try:
            json.loads(body)
        except ValueError:
            return "invalid", None, None, "not JSON", None
        return "invalid", None, codec.sniff_request_id(body), "JSON, but not a JSON-RPC message", None
    rid = codec.request_id_of(message)
    if codec.is_request(message):
        kind = "request"
    elif codec.is_reply(message):
        kind = "error" if getattr(message, "error", None) is not None else "response"
    else:
        kind = "notification"
    return kind, codec.method_of(message), rid, None, message
