"""SQS queue operations for one endpoint, shared by the SQS and SNS+SQS transports.

Sends, deletes and visibility changes are coalesced into SQS batch calls (one
`Batcher` per queue and operation; deletes of handled messages linger briefly
to share a call, and every other write lingers a little while writes come in
bursts, never for a lone one); receives are long polls of up to ten messages. Every call
runs off the event loop (see `asyncmcp_cli.aws`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncmcp_cli import aws
from asyncmcp_cli.aws.batching import Batcher, BatcherPool
from asyncmcp_cli.errors import PayloadTooLargeError, QueueNotFoundError, TransportError
from asyncmcp_cli.protocol.codec import CLIENT_ID

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024
"""The payload limit we enforce for a message body plus its attributes, whatever the queue allows."""

MAX_BATCH = 10
LONG_POLL_SECONDS = 20

DELETE_LINGER_SECONDS = 0.2
"""How long a delete waits for others to share its batch call. A handled message
is already settled for its caller; deleting it a little later saves requests (and
keeps them off the endpoint while a caller waits for a reply). Not on FIFO queues,
where an undeleted message holds back the rest of its group."""

BUSY_LINGER_SECONDS = 0.02
"""How long a send or visibility change that arrives close behind another waits for its batch
to fill (`Batcher` busy_linger). A lone one, after a quiet spell, is sent at once."""


@dataclass(frozen=True)
class Received:
    """One message taken from a queue."""

    queue_url: str
    body: str
    attributes: dict[str, str]
    receipt_handle: str
    message_id: str
    receive_count: int
    sent_at_ms: int | None
    sender_id: str | None = None
    """The AWS principal that sent it (SQS SenderId; for a message SNS delivered, SNS's own)."""


@dataclass(frozen=True)
class _Outgoing:
    body: str
    attributes: dict[str, str]
    group_id: str | None = None
    dedup_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.body.encode()) + sum(
            len(k) + len(v.encode()) + len("String") for k, v in self.attributes.items()
        )


def queue_name_of(url_or_name: str) -> str:
    return url_or_name.rstrip("/").rsplit("/", 1)[-1]


class SqsQueues:
    """Batched, off-loop SQS operations against one endpoint. Enter `running()` before use."""

    def __init__(self, settings: aws.AwsSettings) -> None:
        self.settings = settings
        self._client = aws.client("sqs", settings)
        self._urls: dict[str, str] = {}
        self._batchers = BatcherPool("SqsQueues")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[SqsQueues]:
        async with self._batchers.running():
            yield self

    # -- addressing -------------------------------------------------------

    async def url_for(self, name_or_url: str, *, create: bool = False, attributes: dict[str, str] | None = None) -> str:
        """Resolve a queue name (or pass a URL through), optionally creating the queue."""
        if "://" in name_or_url:
            return name_or_url
        if name_or_url in self._urls:
            return self._urls[name_or_url]
        if create:
            kwargs: dict[str, Any] = {"QueueName": name_or_url}
            attrs = dict(attributes or {})
            if name_or_url.endswith(".fifo"):
                attrs.setdefault("FifoQueue", "true")
            if attrs:
                kwargs["Attributes"] = attrs
            response = await aws.call(self._client.create_queue, **kwargs)
        else:
            try:
                response = await aws.call(self._client.get_queue_url, QueueName=name_or_url)
            except QueueNotFoundError as exc:
                raise QueueNotFoundError(f"queue {name_or_url!r} does not exist at {self._where()}") from exc
        url = response["QueueUrl"]
        self._urls[name_or_url] = url
        return url

    async def redrive_target(self, url: str) -> tuple[str | None, int | None]:
        """(dead-letter queue URL, maxReceiveCount) from a queue's redrive policy, if it has one."""
        response = await aws.call(self._client.get_queue_attributes, QueueUrl=url, AttributeNames=["RedrivePolicy"])
        policy = response.get("Attributes", {}).get("RedrivePolicy")
        if not policy:
            return None, None
        parsed = json.loads(policy)
        target = str(parsed.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1]
        max_receives = int(parsed["maxReceiveCount"]) if "maxReceiveCount" in parsed else None
        return (await self.url_for(target) if target else None), max_receives

    async def delete_queue(self, url: str) -> None:
        await aws.call(self._client.delete_queue, QueueUrl=url)

    def _where(self) -> str:
        return self.settings.resolved_endpoint or f"AWS {self.settings.resolved_region}"

    # -- receiving --------------------------------------------------------

    async def receive(
        self,
        url: str,
        *,
        max_messages: int = MAX_BATCH,
        wait_seconds: int = LONG_POLL_SECONDS,
        visibility_timeout: int | None = None,
    ) -> list[Received]:
        kwargs: dict[str, Any] = {
            "QueueUrl": url,
            "MaxNumberOfMessages": max(1, min(MAX_BATCH, max_messages)),
            "WaitTimeSeconds": wait_seconds,
            "MessageAttributeNames": ["All"],
            "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp", "SenderId"],
        }
        if visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = visibility_timeout
        response = await aws.call(
            self._client.receive_message,
            abandon_on_cancel=True,
            on_abandoned=lambda late: self._give_back(url, late),
            **kwargs,
        )
        return [_received(url, raw) for raw in response.get("Messages", [])]

    def _give_back(self, url: str, response: dict[str, Any]) -> None:
        """Make messages a cancelled long poll received visible again (runs in its thread)."""
        entries = [
            {"Id": str(i), "ReceiptHandle": raw["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, raw in enumerate(response.get("Messages", []))
        ]
        if entries:
            self._client.change_message_visibility_batch(QueueUrl=url, Entries=entries)

    # -- batched writes ---------------------------------------------------

    async def send(
        self,
        url: str,
        body: str,
        attributes: dict[str, str] | None = None,
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
        check_size: bool = True,
    ) -> str:
        """Send one message (batched with concurrent sends); returns its message id.

        On a FIFO queue (``.fifo``) a message needs a group: by default the
        sender's client id (so each client's messages stay in order, and
        clients stay independent), and a deduplication id derived from the
        message, so a resend of the same message within SQS's five-minute
        window is dropped by the queue. `check_size=False` is for copying a
        message that a queue already accepted (dead letters).
        """
        attributes = dict(attributes or {})
        if url.endswith(".fifo"):
            group_id = group_id or attributes.get(CLIENT_ID) or "asyncmcp"
            dedup_id = dedup_id or hashlib.sha256(f"{group_id}\n{body}".encode()).hexdigest()
        outgoing = _Outgoing(body, attributes, group_id, dedup_id)
        if check_size and outgoing.size > MAX_MESSAGE_BYTES:
            raise PayloadTooLargeError(
                f"message of {outgoing.size} bytes exceeds the {MAX_MESSAGE_BYTES}-byte queue message limit"
            )
        return await self._batcher(url, "send").submit(outgoing)

    async def delete(self, url: str, receipt_handle: str, *, lazy: bool = False) -> None:
        """Delete a received message. `lazy` is for messages already handled (their caller has
        its answer): the delete may wait `DELETE_LINGER_SECONDS` to share a batch call."""
        await self._batcher(url, "lazy delete" if lazy else "delete").submit(receipt_handle)

    async def change_visibility(self, url: str, receipt_handle: str, seconds: int) -> None:
        await self._batcher(url, "visibility").submit((receipt_handle, seconds))

    def _batcher(self, url: str, operation: str) -> Batcher[Any, Any]:
        def make() -> Batcher[Any, Any]:
            if operation == "send":
                return Batcher(
                    lambda items: self._send_batch(url, items),
                    max_weight=MAX_MESSAGE_BYTES,
                    weigh=lambda o: o.size,
                    busy_linger=BUSY_LINGER_SECONDS,
                )
            if operation.endswith("delete"):
                lingers = operation == "lazy delete" and not url.endswith(".fifo")
                return Batcher(
                    lambda items: self._delete_batch(url, items),
                    linger=DELETE_LINGER_SECONDS * lingers,
                    busy_linger=BUSY_LINGER_SECONDS,
                )
            return Batcher(lambda items: self._visibility_batch(url, items), busy_linger=BUSY_LINGER_SECONDS)

        return self._batchers.get((url, operation), make)

    async def _send_batch(self, url: str, items: Sequence[_Outgoing]) -> list[str | Exception]:
        entries = []
        for index, item in enumerate(items):
            entry: dict[str, Any] = {
                "Id": str(index),
                "MessageBody": item.body,
                "MessageAttributes": {
                    name: {"DataType": "String", "StringValue": value} for name, value in item.attributes.items()
                },
            }
            if item.group_id is not None:
                entry["MessageGroupId"] = item.group_id
            if item.dedup_id is not None:
                entry["MessageDeduplicationId"] = item.dedup_id
            entries.append(entry)
        response = await aws.call(self._client.send_message_batch, QueueUrl=url, Entries=entries)
        return _per_entry(len(items), response, lambda ok: ok["MessageId"])

    async def _delete_batch(self, url: str, receipts: Sequence[str]) -> list[Exception | None]:
        entries = [{"Id": str(i), "ReceiptHandle": receipt} for i, receipt in enumerate(receipts)]
        response = await aws.call(self._client.delete_message_batch, QueueUrl=url, Entries=entries)
        return _per_entry(len(receipts), response, lambda ok: None)

    async def _visibility_batch(self, url: str, items: Sequence[tuple[str, int]]) -> list[Exception | None]:
        entries = [
            {"Id": str(i), "ReceiptHandle": receipt, "VisibilityTimeout": seconds}
            for i, (receipt, seconds) in enumerate(items)
        ]
        response = await aws.call(self._client.change_message_visibility_batch, QueueUrl=url, Entries=entries)
        return _per_entry(len(items), response, lambda ok: None)


def _per_entry(count: int, response: dict[str, Any], value: Any) -> list[Any]:
    results: list[Any] = [TransportError("no result for this batch entry")] * count
    for ok in response.get("Successful", []):
        results[int(ok["Id"])] = value(ok)
    for failed in response.get("Failed", []):
        results[int(failed["Id"])] = TransportError(f"AWS error {failed.get('Code')}: {failed.get('Message', '')}")
    return results


def _received(url: str, raw: dict[str, Any]) -> Received:
    attributes = {
        name: value["StringValue"] for name, value in raw.get("MessageAttributes", {}).items() if "StringValue" in value
    }
    system = raw.get("Attributes", {})
    sent = system.get("SentTimestamp")
    return Received(
        queue_url=url,
        body=raw.get("Body", ""),
        attributes=attributes,
        receipt_handle=raw["ReceiptHandle"],
        message_id=raw.get("MessageId", ""),
        receive_count=int(system.get("ApproximateReceiveCount", "1")),
        sent_at_ms=int(sent) if sent else None,
        sender_id=system.get("SenderId") or None,
    )
