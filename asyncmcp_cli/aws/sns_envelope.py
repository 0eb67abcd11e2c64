"""SNS envelopes: what a queue subscribed to a topic receives when raw delivery is off.

With raw message delivery on, SNS puts the published body on the queue as it
was sent and carries its message attributes as SQS message attributes. With it
off, the queue message body is a JSON envelope and the attributes travel inside
it, in another shape::

    {"Type": "Notification", "TopicArn": "arn:...", "MessageId": "...",
     "Message": "<the published body>", "Timestamp": "2026-...Z",
     "MessageAttributes": {"asyncmcp-client-id": {"Type": "String", "Value": "c1"}}, ...}

`unwrap` accepts both forms, so a consumer (the SNS+SQS transport, `tail`)
works however its subscription is set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from asyncmcp_cli.aws.sqs_queues import Received

_TEXT_TYPES = ("String", "Number", "String.Array")


@dataclass(frozen=True)
class Envelope:
    """The parts of an SNS notification envelope that matter to us."""

    message: str
    attributes: dict[str, str]
    topic_arn: str
    message_id: str
    timestamp: str | None


def parse(body: str) -> Envelope | None:
    """The envelope a queue message body is, or None for anything else (raw bodies included)."""
    if '"TopicArn"' not in body:  # cheap test first: most bodies are plain JSON-RPC
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("Type") != "Notification":
        return None
    message, topic_arn = data.get("Message"), data.get("TopicArn")
    if not isinstance(message, str) or not isinstance(topic_arn, str):
        return None
    return Envelope(
        message=message,
        attributes=_attributes(data.get("MessageAttributes")),
        topic_arn=topic_arn,
        message_id=str(data.get("MessageId", "")),
        timestamp=data.get("Timestamp") if isinstance(data.get("Timestamp"), str) else None,
    )


def unwrap(received: Received) -> tuple[str, dict[str, str]]:
    """(body, attributes) of the message a queue message carries, enveloped or raw.

    Real SQS message attributes win over envelope ones: with raw delivery off
    there are none, and with it on the body is the sender's, not SNS's.
    """
    envelope = parse(received.body)
    if envelope is None:
        return received.body, received.attributes
    return envelope.message, envelope.attributes | received.attributes


def _attributes(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {
        name: value["Value"]
        for name, value in raw.items()
        if isinstance(value, dict) and value.get("Type") in _TEXT_TYPES and isinstance(value.get("Value"), str)
    }
