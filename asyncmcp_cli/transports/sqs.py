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
- ``endpoint_url`` / ``region``: AWS endpoint (also ``AWS_ENDPOINT_URL`` / ``AWS_REGION``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types

from asyncmcp_cli import aws, codec
from asyncmcp_cli.allowlist import AllowList
from asyncmcp_cli.options import options_from, query_options
from asyncmcp_cli.sqs_queues import SqsQueues
from asyncmcp_cli.transports.hub import SessionHub
from asyncmcp_cli.transports.queue_client import new_client_id, queue_client_streams
from asyncmcp_cli.transports.queue_listener import PollSettings, QueueListener
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

            async def send_reply(reply_to: str, client_id: str, message: types.JSONRPCMessage) -> None:
                url = await queues.url_for(reply_to)
                attributes = {codec.CLIENT_ID: client_id}
                if method := codec.method_of(message):
                    attributes[codec.METHOD] = method
                await queues.send(url, codec.encode(message), attributes)

            hub = SessionHub(send_reply, admits=allow.admits, idle_timeout=o.idle_session_timeout)
            async with hub.running():
                settings = PollSettings(o.visibility_timeout, o.wait_seconds, o.max_in_flight)
                listener = QueueListener(queues, request_url, hub, settings=settings)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(listener.run)
                    try:
                        yield listener
                    finally:
                        tg.cancel_scope.cancel()

    @asynccontextmanager
    async def connect(self, *, client_id: str | None = None) -> AsyncIterator[TransportStreams]:
        o = self.options
        queues = SqsQueues(o.aws)
        async with queues.running():
            request_url = await queues.url_for(o.request_queue)
            reply_url = await queues.url_for(o.reply_queue, create=o.create_reply_queue)

            async def send(body: str, attributes: dict[str, str]) -> None:
                await queues.send(request_url, body, attributes)

            async with queue_client_streams(
                queues,
                send=send,
                reply_url=reply_url,
                reply_address=reply_url,
                client_id=client_id or new_client_id(),
                wait_seconds=o.wait_seconds,
            ) as streams:
                yield streams
