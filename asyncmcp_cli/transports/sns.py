"""SNS+SQS transport: requests published to a topic, fanned out to subscribed server queues.

URL: ``sns+sqs://REQUEST_TOPIC?request_queue=NAME&reply_topic=NAME&reply_queue=NAME&client_id_prefix=P``

Topics are names (in the caller's account and region) or ARNs; queues are
names or URLs. A client publishes each request to ``request_topic``; every
server queue subscribed to it receives a copy (fan-out: run several servers,
each on its own queue). The client declares ``reply_topic`` as its reply
address, and the server publishes the responses there with the client id as
the ``asyncmcp-client-id`` message attribute. Two setups, both made by
``asyncmcp provision``:

- a reply topic per client, its reply queue subscribed without a filter;
- one shared reply topic, each client's reply queue subscribed with a filter
  policy ``{"asyncmcp-client-id": [{"prefix": "P-client-N."}]}``, so SNS
  delivers to that queue only responses for client ids under the prefix. Each
  client session then takes a fresh random id under it (``client_id_prefix``):
  any number of processes and proxy sessions share the queue without sharing
  an id, and nobody can guess an id to squat on it.

Subscriptions may use raw message delivery or not: envelopes are unwrapped
(`asyncmcp_cli.aws.sns_envelope`). A ``.fifo`` topic publishes each client's
messages in its own message group.

Options (URL query keys, `SnsOptions` fields, ``-o KEY=VALUE``):

- ``request_topic`` (default ``asyncmcp-requests``): where clients publish requests;
- ``request_queue`` (default ``asyncmcp-sns-requests``): the server's queue, subscribed to ``request_topic``;
- ``reply_topic`` (default ``asyncmcp-replies``): where this client's responses are published;
- ``reply_queue`` (default ``asyncmcp-sns-replies``): the queue this client reads, subscribed to ``reply_topic``;
- ``client_id_prefix``: every session's fresh client id starts with it (the profile sets it to the
  prefix the reply queue's filter policy admits, ``P-client-N.``); an explicit id must start with it too;
- ``client_id``: a fixed id for every session instead of a fresh one (one session at a time: the server
  binds an id to the first reply address it sees);
- ``allow_reply``: comma-separated globs of reply topics the server may publish to (default
  ``asyncmcp-*``: topic names at the server's own partition, region and account; an ``arn:`` pattern
  matches whole ARNs);
- ``check_route`` (default true): on connect, fail fast when the reply queue is not subscribed to the
  reply topic, or its filter policy would not pass this client's id (exact ids and prefixes are understood);
- ``visibility_timeout`` (30), ``max_in_flight`` (64), ``wait_seconds`` (20), ``result_cache``,
  ``result_ttl``, ``dead_letter_queue``, ``max_receive_count`` (5), ``payload_bucket``,
  ``payload_threshold``, ``reply_ttl`` (120), ``max_reply_ttl`` (86400), ``tap``: as for ``sqs`` (the
  server side is the same queue listener);
- ``endpoint_url`` / ``region``: AWS endpoint (also ``AWS_ENDPOINT_URL`` / ``AWS_REGION``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncmcp_cli import aws, tracing
from asyncmcp_cli.aws import sns_envelope
from asyncmcp_cli.aws.payloads import TO_SERVER, Binding
from asyncmcp_cli.aws.sns_topics import AttributeFilter, SnsTopics, attribute_filter, is_topic_arn, topic_name_of
from asyncmcp_cli.aws.sqs_queues import SqsQueues, queue_name_of
from asyncmcp_cli.delivery.allowlist import AllowList
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.options import options_from, query_options
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.tap import now_ms, tapping
from asyncmcp_cli.transports.queue_client import new_client_id, queue_client_streams
from asyncmcp_cli.transports.queue_listener import QueueListener, listening
from asyncmcp_cli.transports.queue_options import QueueTransportOptions
from asyncmcp_cli.transports.queue_replies import queue_reply_sender
from asyncmcp_cli.types import TransportStreams

logger = logging.getLogger(__name__)

DEFAULT_REQUEST_TOPIC = "asyncmcp-requests"
DEFAULT_REQUEST_QUEUE = "asyncmcp-sns-requests"
DEFAULT_REPLY_TOPIC = "asyncmcp-replies"
DEFAULT_REPLY_QUEUE = "asyncmcp-sns-replies"


@dataclass
class SnsOptions(QueueTransportOptions):
    request_topic: str = DEFAULT_REQUEST_TOPIC
    request_queue: str = DEFAULT_REQUEST_QUEUE
    reply_topic: str = DEFAULT_REPLY_TOPIC
    reply_queue: str = DEFAULT_REPLY_QUEUE
    client_id: str | None = None
    client_id_prefix: str | None = None
    check_route: bool = True


class SnsSqsTransport:
    """MCP over SNS topics fanned out to SQS queues (AWS, moto, LocalStack)."""

    scheme = "sns+sqs"
    options_type = SnsOptions

    def __init__(self, options: SnsOptions | None = None, **overrides: Any) -> None:
        self.options = options_from(SnsOptions, overrides, base=options)

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> SnsSqsTransport:
        return cls(**query_options(url, target="request_topic", overrides=overrides))

    def describe(self) -> dict[str, Any]:
        o = self.options
        return {
            "transport": self.scheme,
            "request_topic": topic_name_of(o.request_topic),
            "request_queue": queue_name_of(o.request_queue),
            "reply_topic": topic_name_of(o.reply_topic),
            "reply_queue": queue_name_of(o.reply_queue),
            "endpoint": o.aws.resolved_endpoint or "AWS",
            "region": o.aws.resolved_region,
        }

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[QueueListener]:
        o = self.options
        queues, topics, claims = SqsQueues(o.aws), SnsTopics(o.aws), o.claims
        async with queues.running(), topics.running(), tapping(o.aws, o.tap) as tap:
            request_url = await queues.url_for(o.request_queue)
            allow = AllowList.of(o.allow_reply, home=_as_topic_arn(await _queue_arn(o.aws, request_url)))

            def admits(reply_to: str) -> bool:
                return is_topic_arn(reply_to) and allow.admits(reply_to)

            async def publish(topic_arn: str, body: str, attributes: dict[str, str], client_id: str) -> str:
                return await topics.publish(topic_arn, body, attributes, group_id=client_id)

            send_reply = queue_reply_sender(
                o,
                tap,
                resolve=_as_is,
                destination=lambda topic_arn: tracing.Destination(tracing.SNS, topic_name_of(topic_arn)),
                deliver=publish,
            )
            async with listening(
                queues,
                request_url,
                send_reply,
                admits=admits,
                settings=o.poll_settings,
                unwrap=sns_envelope.unwrap,
                claims=claims,
                bind_sender=False,  # SNS delivered every message: the SenderId is the topic's, not the client's
            ) as listener:
                yield listener

    def new_client_id(self) -> str:
        """A fresh, unguessable client id for one session, under `client_id_prefix` when one is set."""
        return f"{self.options.client_id_prefix or ''}{new_client_id()}"

    def client_id_for(self, explicit: str | None = None) -> str:
        """The id a session uses: `explicit`, else the fixed `client_id`, else a fresh one.

        An id outside `client_id_prefix` is refused here, before anything is sent:
        the reply queue's filter policy would drop its responses.
        """
        o = self.options
        client_id = explicit or o.client_id or self.new_client_id()
        if o.client_id_prefix and not client_id.startswith(o.client_id_prefix):
            raise ConfigurationError(
                f"client id {client_id!r} does not start with {o.client_id_prefix!r}, the client id prefix of "
                f"reply queue {queue_name_of(o.reply_queue)!r}, so its responses would never arrive; "
                "leave out --client-id to take a fresh id under the prefix"
            )
        return client_id

    @asynccontextmanager
    async def connect(self, *, client_id: str | None = None) -> AsyncIterator[TransportStreams]:
        o = self.options
        client_id = self.client_id_for(client_id)
        queues, topics = SqsQueues(o.aws), SnsTopics(o.aws)
        async with queues.running(), topics.running(), tapping(o.aws, o.tap) as tap:
            request_arn = await topics.arn_for(o.request_topic, check=True)
            reply_arn = await topics.arn_for(o.reply_topic)
            reply_url = await queues.url_for(o.reply_queue)
            if o.check_route:
                await check_reply_route(topics, reply_arn, reply_url, client_id)

            claims = o.claims
            bound_to = Binding(TO_SERVER, client_id, reply_arn)

            async def send(body: str, attributes: dict[str, str]) -> str:
                body, attributes = await claims.shrink(body, attributes, bound_to=bound_to)
                sent_at = now_ms()
                message_id = await topics.publish(request_arn, body, attributes, group_id=client_id)
                tap.copy(request_arn, body, attributes, sent_at_ms=sent_at)
                return message_id

            async with queue_client_streams(
                queues,
                send=send,
                reply_url=reply_url,
                reply_address=reply_arn,
                client_id=client_id,
                wait_seconds=o.wait_seconds,
                reply_ttl=o.reply_ttl,
                unwrap=sns_envelope.unwrap,
                claims=claims,
                trace_as=tracing.Destination(tracing.SNS, topic_name_of(request_arn)),
            ) as streams:
                yield streams


async def _queue_arn(settings: aws.AwsSettings, url: str) -> str:
    response = await aws.call(
        aws.client("sqs", settings).get_queue_attributes, QueueUrl=url, AttributeNames=["QueueArn"]
    )
    return str(response["Attributes"]["QueueArn"])


def _as_topic_arn(queue_arn: str) -> str:
    """The server's home for the allow-list: topics in the same partition, region and account as its queue."""
    parts = queue_arn.split(":")
    parts[2] = "sns"
    return ":".join(parts)


async def check_reply_route(topics: SnsTopics, reply_arn: str, reply_url: str, client_id: str) -> None:
    """Fail now, not at the first timeout, when this client's responses could never arrive.

    Skipped (with a debug line) when the credentials may not list subscriptions.
    """
    try:
        subscription = await topics.subscription_of(reply_arn, await _queue_arn(topics.settings, reply_url))
    except Exception as exc:  # a permission or listing problem: the check is a courtesy, not a requirement
        logger.debug("could not check the reply route (%s); going on", exc)
        return
    topic, queue = topic_name_of(reply_arn), queue_name_of(reply_url)
    if subscription is None:
        raise ConfigurationError(
            f"reply queue {queue!r} is not subscribed to reply topic {topic!r}, so no response could arrive; "
            "run `asyncmcp provision` or subscribe it"
        )
    allowed = attribute_filter(subscription, codec.CLIENT_ID)
    if allowed is not None and not allowed.admits(client_id):
        raise ConfigurationError(
            f"reply queue {queue!r} only receives client ids {allowed.describe()} from topic {topic!r} "
            f"(its filter policy), not {client_id!r}; {_remedy(allowed)}"
        )


def _remedy(allowed: AttributeFilter) -> str:
    if allowed.prefixes:
        return (
            f"set -o client_id_prefix={allowed.prefixes[0]} (a profile from `asyncmcp provision` does) "
            "to take a fresh id under it, or use another reply queue"
        )
    return (
        f"pass --client-id {allowed.exact[0]} (one client at a time), or run `asyncmcp provision` again: "
        "it now filters on a client id prefix, so that every client takes a fresh id of its own"
    )


async def _as_is(topic_arn: str) -> str:
    """A reply topic is named by its ARN already (the allow-list admits nothing else)."""
    return topic_arn
