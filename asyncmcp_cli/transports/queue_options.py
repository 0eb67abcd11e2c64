"""Options shared by the queue-backed transports (`sqs`, `sns+sqs`).

Both run the same server core (`queue_listener.listening`) and client core
(`queue_client.queue_client_streams`), so their polling, delivery, payload and
endpoint options are one dataclass that each transport's own options extend.
"""

from __future__ import annotations

from dataclasses import dataclass

from asyncmcp_cli import aws
from asyncmcp_cli.aws.payloads import DEFAULT_THRESHOLD, ClaimCheck
from asyncmcp_cli.delivery import reply_expiry
from asyncmcp_cli.delivery.results import DEFAULT_TTL_SECONDS
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports.queue_listener import PollSettings

DEFAULT_ALLOW_REPLY = ("asyncmcp-*",)


@dataclass
class QueueTransportOptions:
    endpoint_url: str | None = None
    region: str | None = None
    allow_reply: tuple[str, ...] = DEFAULT_ALLOW_REPLY
    visibility_timeout: int = 30
    max_in_flight: int = 64
    wait_seconds: int = 20
    idle_session_timeout: float = 3600.0
    result_cache: str = "memory"
    result_ttl: float = DEFAULT_TTL_SECONDS
    dead_letter_queue: str | None = None
    max_receive_count: int = 5
    payload_bucket: str | None = None
    payload_threshold: int = DEFAULT_THRESHOLD
    reply_ttl: float = reply_expiry.DEFAULT_LIVE_TTL
    """Client: how long its answers should wait for it on the reply queue after they are sent."""
    max_reply_ttl: float = reply_expiry.DEFAULT_MAX_REPLY_TTL
    """Server: the most it grants a client's `reply_ttl` (and what it grants when none is declared)."""
    tap: str | None = None
    """An SNS topic that gets a best-effort copy of every message sent, for `tail` (`asyncmcp_cli.tap`)."""

    def __post_init__(self) -> None:
        if self.payload_bucket is not None and not self.payload_bucket.strip():
            raise ConfigurationError("payload_bucket is empty: name an S3 bucket, or leave the option out")

    @property
    def aws(self) -> aws.AwsSettings:
        return aws.AwsSettings(endpoint_url=self.endpoint_url, region=self.region)

    @property
    def claims(self) -> ClaimCheck:
        return ClaimCheck(self.aws, self.payload_bucket, self.payload_threshold)

    @property
    def poll_settings(self) -> PollSettings:
        return PollSettings(
            visibility_timeout=self.visibility_timeout,
            wait_seconds=self.wait_seconds,
            max_in_flight=self.max_in_flight,
            idle_session_timeout=self.idle_session_timeout,
            result_cache=self.result_cache,
            result_ttl=self.result_ttl,
            dead_letter_queue=self.dead_letter_queue,
            max_receive_count=self.max_receive_count,
        )
