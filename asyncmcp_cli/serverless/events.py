"""The records of an SQS event that AWS Lambda hands a function, as received queue messages.

An event source mapping delivers up to its batch size of messages in one
event; each record carries what ReceiveMessage would have returned, in
Lambda's own spelling (``messageId``, ``receiptHandle``, ``body``,
``attributes`` with ``ApproximateReceiveCount`` / ``SentTimestamp`` /
``SenderId``, ``messageAttributes`` with ``stringValue`` / ``dataType``,
``eventSourceARN``). Records are input like any queue message: a malformed one
becomes a `Received` with what could be read (it is then judged and
dead-lettered like any other bad message), never an exception that would fail
the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asyncmcp_cli.aws.sqs_queues import Received
from asyncmcp_cli.errors import ConfigurationError

logger = logging.getLogger(__name__)

SQS_EVENT_SOURCE = "aws:sqs"


@dataclass(frozen=True)
class QueueArn:
    """``arn:PARTITION:sqs:REGION:ACCOUNT:NAME`` of the queue a record came from."""

    text: str
    region: str
    account: str
    name: str

    @classmethod
    def parse(cls, text: object) -> QueueArn:
        fields = text.split(":") if isinstance(text, str) else []
        if len(fields) != 6 or fields[0] != "arn" or fields[2] != "sqs" or not all(fields[3:]):
            raise ConfigurationError(f"not an SQS queue ARN: {text!r} (is the function's event source an SQS queue?)")
        return cls(text, fields[3], fields[4], fields[5])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Record:
    """One record of the event: its message id (what `batchItemFailures` names) and the message."""

    message_id: str
    source: QueueArn
    received: Received


def records_of(event: object) -> list[Record]:
    """The SQS records of a Lambda event; raise `ConfigurationError` if it is not an SQS event at all.

    `Received.queue_url` is left empty: the caller resolves each source ARN to its URL once.
    """
    raw_records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(raw_records, list):
        raise ConfigurationError("the event has no Records list: this handler serves an SQS event source mapping")
    records = []
    for raw in raw_records:
        if not isinstance(raw, Mapping) or raw.get("eventSource") != SQS_EVENT_SOURCE:
            raise ConfigurationError("the event holds a record that is not from SQS: map only an SQS queue to it")
        message_id = raw.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            # Lambda always sets it; without one the record cannot be reported, only logged.
            logger.error("skipping an SQS record without a messageId: %.200r", raw)
            continue
        records.append(Record(message_id, QueueArn.parse(raw.get("eventSourceARN")), _received(message_id, raw)))
    return records


def _received(message_id: str, raw: Mapping[str, Any]) -> Received:
    system = raw.get("attributes") if isinstance(raw.get("attributes"), Mapping) else {}
    body = raw.get("body")
    return Received(
        queue_url="",
        body=body if isinstance(body, str) else "",
        attributes=_string_attributes(raw.get("messageAttributes")),
        receipt_handle=str(raw.get("receiptHandle") or ""),
        message_id=message_id,
        receive_count=_int(system.get("ApproximateReceiveCount"), 1),
        sent_at_ms=_int(system.get("SentTimestamp"), None),
        sender_id=system.get("SenderId") if isinstance(system.get("SenderId"), str) else None,
    )


def _string_attributes(raw: object) -> dict[str, str]:
    """Message attributes with a string value, as the SQS transport reads them (binary ones are ignored)."""
    if not isinstance(raw, Mapping):
        return {}
    return {
        name: value["stringValue"]
        for name, value in raw.items()
        if isinstance(name, str) and isinstance(value, Mapping) and isinstance(value.get("stringValue"), str)
    }


def _int(value: object, default: int | None) -> Any:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
