"""SQS transport: requests on one queue, each client's replies on its own queue.

URL: ``sqs://REQUEST_QUEUE?reply_queue=NAME&endpoint_url=URL&region=REGION``

``REQUEST_QUEUE`` and ``reply_queue`` are queue names or URLs. Options (URL
query keys, `SqsOptions` fields, CLI flags):

- ``reply_queue``: where this client's replies arrive (default ``asyncmcp-replies``);
  created on first use when ``create_reply_queue`` is true;
- ``allow_reply``: comma-separated glob patterns of reply queues the server
  may write to (default ``asyncmcp-*``: queue names with that prefix, at the
  server's own endpoint and account);
- ``visibility_timeout`` (s, default 30): kept extended while a request runs;
- ``max_in_flight`` (default 64): unsettled requests per server before it stops receiving;
- ``wait_seconds`` (default 20): long-poll length;
- ``result_cache`` (``memory``, ``sqlite:///PATH`` or ``s3://BUCKET/PREFIX``) and
  ``result_ttl`` (s, default 900): where sent responses are kept so a redelivered
  request is answered, not re-run;
- ``dead_letter_queue``: where poison messages go when the request queue has no
  redrive policy (with one, its dead-letter queue and ``maxReceiveCount`` are used);
- ``max_receive_count`` (default 5): receives after which a request that never
  finished is answered with an error and dead-lettered;
- ``payload_bucket`` / ``payload_threshold`` (default 262144 bytes): messages over the
  threshold travel through this S3 bucket (set it on server and client); without a bucket
  they are refused with a JSON-RPC error naming the limit. Claim checks received are
  followed only into this bucket, and only when bound to their message (`asyncmcp_cli.aws.payloads`);
- ``reply_ttl`` (s, default 120): how long this client's answers wait for it on the reply queue
  once sent; after that any reader of the queue deletes them (`asyncmcp_cli.delivery.reply_expiry`);
- ``max_reply_ttl`` (s, default 86400): the server's ceiling on a client's ``reply_ttl``;
- ``tap``: an SNS topic (name or ARN) that gets a copy of every message sent, for
  ``asyncmcp tail --follow`` (best-effort, see `asyncmcp_cli.tap`); ``provision --tap`` makes one;
- ``endpoint_url`` / ``region``: AWS endpoint (also ``AWS_ENDPOINT_URL`` / ``AWS_REGION``).

FIFO queues (names ending in ``.fifo``) work too: each client's messages form one
message group (kept in order; clients independent) with a deduplication id derived
from the message. A slow call holds its client's group until it finishes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncmcp_cli import tracing
from asyncmcp_cli.aws.payloads import TO_SERVER, Binding
from asyncmcp_cli.aws.sqs_queues import SqsQueues, queue_name_of
from asyncmcp_cli.delivery.allowlist import AllowList
from asyncmcp_cli.options import options_from, query_options
from asyncmcp_cli.tap import Tap, now_ms, tapping
from asyncmcp_cli.transports.queue_client import new_client_id, queue_client_streams
from asyncmcp_cli.transports.queue_listener import QueueListener, listening
from asyncmcp_cli.transports.queue_options import QueueTransportOptions
from asyncmcp_cli.transports.queue_replies import queue_reply_sender
from asyncmcp_cli.transports.replies import ReplySender
from asyncmcp_cli.types import TransportStreams

DEFAULT_REQUEST_QUEUE = "asyncmcp-requests"
DEFAULT_REPLY_QUEUE = "asyncmcp-replies"


@dataclass
class SqsOptions(QueueTransportOptions):
    request_queue: str = DEFAULT_REQUEST_QUEUE
    reply_queue: str = DEFAULT_REPLY_QUEUE
    create_reply_queue: bool = True


class SqsTransport:
    """MCP over Amazon SQS (or any SQS-compatible endpoint: moto, LocalStack)."""

    scheme = "sqs"
    options_type = SqsOptions

    def __init__(self, options: SqsOptions | None = None, **overrides: Any) -> None:
        self.options = options_from(SqsOptions, overrides, base=options)

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> SqsTransport:
        return cls(**query_options(url, target="request_queue", overrides=overrides))

    def describe(self) -> dict[str, Any]:
        o = self.options
        return {
            "transport": self.scheme,
            "request_queue": o.request_queue,
            "reply_queue": o.reply_queue,
            "endpoint": o.aws.resolved_endpoint or "AWS",
            "region": o.aws.resolved_region,
        }

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[QueueListener]:
        o = self.options
        queues = SqsQueues(o.aws)
        async with queues.running(), tapping(o.aws, o.tap) as tap:
            request_url = await queues.url_for(o.request_queue)
            allow = AllowList.of(o.allow_reply, home=request_url)
            claims = o.claims
            send_reply = reply_sender(queues, o, tap)

            async with listening(
                queues, request_url, send_reply, admits=allow.admits, settings=o.poll_settings, claims=claims
            ) as listener:
                yield listener

    @asynccontextmanager
    async def connect(self, *, client_id: str | None = None) -> AsyncIterator[TransportStreams]:
        o = self.options
        queues = SqsQueues(o.aws)
        async with queues.running(), tapping(o.aws, o.tap) as tap:
            request_url = await queues.url_for(o.request_queue)
            reply_url = await queues.url_for(o.reply_queue, create=o.create_reply_queue)

            claims = o.claims
            client_id = client_id or new_client_id()
            bound_to = Binding(TO_SERVER, client_id, reply_url)

            async def send(body: str, attributes: dict[str, str]) -> str:
                body, attributes = await claims.shrink(body, attributes, bound_to=bound_to)
                sent_at = now_ms()
                message_id = await queues.send(request_url, body, attributes)
                tap.copy(request_url, body, attributes, sent_at_ms=sent_at)
                return message_id

            async with queue_client_streams(
                queues,
                send=send,
                reply_url=reply_url,
                reply_address=reply_url,
                client_id=client_id,
                wait_seconds=o.wait_seconds,
                reply_ttl=o.reply_ttl,
                claims=claims,
                trace_as=tracing.Destination(tracing.SQS, queue_name_of(request_url)),
            ) as streams:
                yield streams


def reply_sender(queues: SqsQueues, options: QueueTransportOptions, tap: Tap) -> ReplySender:
    """The server's sender of messages to a client's reply queue: claim-checked, expiry-stamped, tapped."""

    async def deliver(url: str, body: str, attributes: dict[str, str], client_id: str) -> str:
        return await queues.send(url, body, attributes)

    return queue_reply_sender(
        options,
        tap,
        resolve=queues.url_for,
        destination=lambda url: tracing.Destination(tracing.SQS, queue_name_of(url)),
        deliver=deliver,
    )
