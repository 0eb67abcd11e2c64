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
- ``result_cache`` (``memory`` or ``sqlite:///PATH``) and ``result_ttl`` (s, default 900):
  where sent responses are kept so a redelivered request is answered, not re-run;
- ``dead_letter_queue``: where poison messages go when the request queue has no
  redrive policy (with one, its dead-letter queue and ``maxReceiveCount`` are used);
- ``max_receive_count`` (default 5): receives after which a request that never
  finished is answered with an error and dead-lettered;
- ``payload_bucket`` / ``payload_threshold`` (default 262144 bytes): messages over the
  threshold travel through this S3 bucket; without a bucket they are refused with a
  JSON-RPC error naming the limit;
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

import mcp_types as types

from asyncmcp_cli import aws, codec
from asyncmcp_cli.allowlist import AllowList
from asyncmcp_cli.options import options_from, query_options
from asyncmcp_cli.payloads import DEFAULT_THRESHOLD, ClaimCheck
from asyncmcp_cli.results import DEFAULT_TTL_SECONDS
from asyncmcp_cli.sqs_queues import SqsQueues
from asyncmcp_cli.transports.queue_client import new_client_id, queue_client_streams
from asyncmcp_cli.transports.queue_listener import PollSettings, QueueListener, listening
from asyncmcp_cli.types import TransportStreams

DEFAULT_REQUEST_QUEUE = "asyncmcp-requests"
DEFAULT_REPLY_QUEUE = "asyncmcp-replies"
DEFAULT_ALLOW_REPLY = ("asyncmcp-*",)


@dataclass
class SqsOptions:
    request_queue: str = DEFAULT_REQUEST_QUEUE
    reply_queue: str = DEFAULT_REPLY_QUEUE
    endpoint_url: str | None = None
    region: str | None = None
    allow_reply: tuple[str, ...] = DEFAULT_ALLOW_REPLY
    visibility_timeout: int = 30
    max_in_flight: int = 64
    wait_seconds: int = 20
    create_reply_queue: bool = True
    idle_session_timeout: float = 3600.0
    result_cache: str = "memory"
    result_ttl: float = DEFAULT_TTL_SECONDS
    dead_letter_queue: str | None = None
    max_receive_count: int = 5
    payload_bucket: str | None = None
    payload_threshold: int = DEFAULT_THRESHOLD

    @property
    def claims(self) -> ClaimCheck:
        return ClaimCheck(self.aws, self.payload_bucket, self.payload_threshold)

    @property
    def aws(self) -> aws.AwsSettings:
        return aws.AwsSettings(endpoint_url=self.endpoint_url, region=self.region)


class SqsTransport:
    """MCP over Amazon SQS (or any SQS-compatible endpoint: moto, LocalStack)."""

    scheme = "sqs"

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
        async with queues.running():
            request_url = await queues.url_for(o.request_queue)
            allow = AllowList.of(o.allow_reply, home=request_url)
            claims = o.claims

            async def send_reply(reply_to: str, client_id: str, message: types.JSONRPCMessage) -> None:
                url = await queues.url_for(reply_to)
                attributes = {codec.CLIENT_ID: client_id}
                if method := codec.method_of(message):
                    attributes[codec.METHOD] = method
                await queues.send(url, *await claims.shrink(codec.encode(message), attributes))

            async with listening(
                queues, request_url, send_reply, admits=allow.admits, settings=poll_settings(o), claims=claims
            ) as listener:
                yield listener

    @asynccontextmanager
    async def connect(self, *, client_id: str | None = None) -> AsyncIterator[TransportStreams]:
        o = self.options
        queues = SqsQueues(o.aws)
        async with queues.running():
            request_url = await queues.url_for(o.request_queue)
            reply_url = await queues.url_for(o.reply_queue, create=o.create_reply_queue)

            claims = o.claims

            async def send(body: str, attributes: dict[str, str]) -> None:
                await queues.send(request_url, *await claims.shrink(body, attributes))

            async with queue_client_streams(
                queues,
                send=send,
                reply_url=reply_url,
                reply_address=reply_url,
                client_id=client_id or new_client_id(),
                wait_seconds=o.wait_seconds,
                claims=claims,
            ) as streams:
                yield streams


def poll_settings(options: SqsOptions) -> PollSettings:
    return PollSettings(
        visibility_timeout=options.visibility_timeout,
        wait_seconds=options.wait_seconds,
        max_in_flight=options.max_in_flight,
        idle_session_timeout=options.idle_session_timeout,
        result_cache=options.result_cache,
        result_ttl=options.result_ttl,
        dead_letter_queue=options.dead_letter_queue,
        max_receive_count=options.max_receive_count,
    )
