"""Large payloads: messages over the size limit travel through S3 (a claim check).

SQS and SNS take at most 256 KiB per message. A larger body is stored as an S3
object and the message carries only a pointer (attribute ``asyncmcp-claim-check``
= ``s3://bucket/key``, and the same pointer as the body, so inspection tools show
what happened). The receiver fetches the body transparently and deletes the
object once the message is settled; a bucket lifecycle rule (set by
``asyncmcp provision``) removes whatever a crash leaves behind.

Without a bucket, an oversize message raises `PayloadTooLargeError` naming the
limit, which the transports turn into a JSON-RPC error for the caller.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from asyncmcp_cli import aws
from asyncmcp_cli.errors import PayloadTooLargeError, TransportError

logger = logging.getLogger(__name__)

CLAIM_CHECK = "asyncmcp-claim-check"
DEFAULT_THRESHOLD = 256 * 1024
KEY_PREFIX = "asyncmcp/payloads/"

Cleanup = Callable[[], Awaitable[None]]


async def nothing() -> None:
    """A cleanup with nothing to clean."""
    return None


def message_size(body: str, attributes: dict[str, str]) -> int:
    """Bytes a message counts against the queue limit: body plus attribute names, types and values."""
    return len(body.encode()) + sum(len(k) + len(v.encode()) + len("String") for k, v in attributes.items())


@dataclass
class ClaimCheck:
    settings: aws.AwsSettings
    bucket: str | None = None
    threshold: int = DEFAULT_THRESHOLD

    async def shrink(self, body: str, attributes: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The message to send: unchanged when small enough, else a pointer to an S3 copy."""
        size = message_size(body, attributes)
        if size <= self.threshold:
            return body, attributes
        if self.bucket is None:
            raise PayloadTooLargeError(
                f"message of {size} bytes exceeds the {self.threshold}-byte limit and no payload bucket is "
                "configured (set payload_bucket to send large payloads through S3)"
            )
        key = f"{KEY_PREFIX}{uuid.uuid4().hex}"
        s3 = aws.client("s3", self.settings)
        await aws.call(s3.put_object, Bucket=self.bucket, Key=key, Body=body.encode(), ContentType="application/json")
        pointer = f"s3://{self.bucket}/{key}"
        logger.debug("stored a %d-byte payload at %s", size, pointer)
        return json.dumps({CLAIM_CHECK: pointer, "size": size}), attributes | {CLAIM_CHECK: pointer}

    async def expand(self, body: str, attributes: dict[str, str]) -> tuple[str, Cleanup]:
        """The real body of a received message, and how to delete its S3 copy once it is settled."""
        pointer = attributes.get(CLAIM_CHECK)
        if not pointer:
            return body, nothing
        parts = urlsplit(pointer)
        if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
            raise TransportError(f"malformed claim check {pointer!r}")
        bucket, key = parts.netloc, parts.path.lstrip("/")
        s3 = aws.client("s3", self.settings)
        response = await aws.call(s3.get_object, Bucket=bucket, Key=key)
        payload = await aws.call(response["Body"].read)

        async def cleanup() -> None:
            try:
                await aws.call(s3.delete_object, Bucket=bucket, Key=key)
            except TransportError as exc:
                logger.warning("could not delete payload %s (the bucket's lifecycle rule will): %s", pointer, exc)

        return payload.decode(), cleanup
