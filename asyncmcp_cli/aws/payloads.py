"""Large payloads: messages over the size limit travel through S3 (a claim check).

SQS and SNS take at most 256 KiB per message. A larger body is stored as an S3
object and the message carries only a pointer (attribute ``asyncmcp-claim-check``
= ``s3://bucket/key``, and the same pointer as the body, so inspection tools show
what happened). The receiver fetches the body and deletes the object once the
message is settled; a bucket lifecycle rule (set by ``asyncmcp provision``)
removes whatever a crash leaves behind.

A pointer arrives on a queue, so it is untrusted input. It is followed only when:

- the receiver has a payload bucket configured, the pointer names that bucket, and
  its key is one this module writes (``asyncmcp/payloads/<32 hex digits>``);
- the object is *bound* to the message that carries it. The uploader stores, as S3
  object metadata, SHA-256 digests of the message's direction (to the server or to a
  client), client id and reply address, and of the body; the body digest also travels
  as the ``asyncmcp-claim-digest`` attribute. The receiver compares them with the
  message's own routing and with the bytes it read. Someone who can write to a queue
  but not to the bucket therefore cannot have another client's object run, answered
  to themselves, or deleted.

The bucket's writers are trusted (IAM), its readers of queues are not. An HMAC
would bind as well, but needs a key shared by every client and server; the
metadata binding needs nothing beyond the bucket both sides already use.

Every refusal raises `ClaimCheckRefusedError` with the same text, whatever the
reason (foreign bucket, missing key, mismatched binding), so an answer never tells
whether a bucket or key exists; the reason goes to the debug log. A refused object
is never deleted.

Without a bucket, an oversize message raises `PayloadTooLargeError` naming the
limit, which the transports turn into a JSON-RPC error for the caller.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

from asyncmcp_cli import aws
from asyncmcp_cli.delivery.bucket_layout import PAYLOADS_PREFIX
from asyncmcp_cli.errors import EndpointUnreachableError, PayloadTooLargeError, TransportError
from asyncmcp_cli.protocol import codec

logger = logging.getLogger(__name__)

CLAIM_CHECK = "asyncmcp-claim-check"
CLAIM_DIGEST = "asyncmcp-claim-digest"
DEFAULT_THRESHOLD = 256 * 1024
KEY_PREFIX = PAYLOADS_PREFIX
REFUSED = "claim check refused"

_KEY = re.compile(re.escape(KEY_PREFIX) + r"[0-9a-f]{32}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_META_BINDING = "asyncmcp-binding"
_META_CLIENT = "asyncmcp-binding-client"
_META_DIGEST = "asyncmcp-sha256"

Direction = Literal["to-server", "to-client"]
TO_SERVER: Direction = "to-server"
TO_CLIENT: Direction = "to-client"

Cleanup = Callable[[], Awaitable[None]]


class ClaimCheckRefusedError(TransportError):
    """A claim-check pointer that is not followed. Its text is the same for every reason."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


async def nothing() -> None:
    """A cleanup with nothing to clean."""
    return None


def message_size(body: str, attributes: dict[str, str]) -> int:
    """Bytes a message counts against the queue limit: body plus attribute names, types and values."""
    return len(body.encode()) + sum(len(k) + len(v.encode()) + len("String") for k, v in attributes.items())


@dataclass(frozen=True)
class Binding:
    """Who a payload belongs to: the direction it travels, the client id and its reply address.

    `reply_to` None (on the receiving side only) means "not known here", and the
    reply address is then not compared: collecting an ``sns+sqs`` answer from a
    receipt, which names the reply queue but not the reply topic.
    """

    direction: Direction
    client_id: str
    reply_to: str | None

    @classmethod
    def of_request(cls, attributes: dict[str, str]) -> Binding | None:
        """What a request's payload must be bound to: the client id and reply address its attributes name."""
        client_id, reply_to = attributes.get(codec.CLIENT_ID), attributes.get(codec.REPLY_TO)
        return cls(TO_SERVER, client_id, reply_to) if client_id and reply_to else None

    def metadata(self, body_digest: str) -> dict[str, str]:
        """What the uploader stores with the object: the full binding, and one without the reply address."""
        return {
            _META_BINDING: self._digest(body_digest, with_reply_to=True),
            _META_CLIENT: self._digest(body_digest, with_reply_to=False),
            _META_DIGEST: body_digest,
        }

    def admits(self, metadata: dict[str, str], body_digest: str) -> bool:
        if self.reply_to is None:
            return metadata.get(_META_CLIENT) == self._digest(body_digest, with_reply_to=False)
        return metadata.get(_META_BINDING) == self._digest(body_digest, with_reply_to=True)

    def _digest(self, body_digest: str, *, with_reply_to: bool) -> str:
        reply_to = (self.reply_to or "") if with_reply_to else None
        return _sha256(json.dumps([self.direction, self.client_id, reply_to, body_digest]).encode())


@dataclass
class ClaimCheck:
    settings: aws.AwsSettings = field(default_factory=aws.AwsSettings)
    bucket: str | None = None
    threshold: int = DEFAULT_THRESHOLD

    async def shrink(self, body: str, attributes: dict[str, str], *, bound_to: Binding) -> tuple[str, dict[str, str]]:
        """The message to send: unchanged when small enough, else a pointer to an S3 copy bound to it."""
        size = message_size(body, attributes)
        if size <= self.threshold:
            return body, attributes
        if self.bucket is None:
            raise PayloadTooLargeError(
                f"message of {size} bytes exceeds the {self.threshold}-byte limit and no payload bucket is "
                "configured (set payload_bucket to send large payloads through S3)"
            )
        data = body.encode()
        digest = _sha256(data)
        key = f"{KEY_PREFIX}{uuid.uuid4().hex}"
        s3 = aws.client("s3", self.settings)
        await aws.call(
            s3.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="application/json",
            Metadata=bound_to.metadata(digest),
        )
        pointer = f"s3://{self.bucket}/{key}"
        logger.debug("stored a %d-byte payload at %s", size, pointer)
        stub: dict[str, Any] = {CLAIM_CHECK: pointer, "size": size}
        if (rid := codec.sniff_request_id(body)) is not None:
            stub["id"] = rid  # so that a refusal can still be answered to the right request
        return json.dumps(stub), attributes | {CLAIM_CHECK: pointer, CLAIM_DIGEST: digest}

    async def expand(self, body: str, attributes: dict[str, str], *, expect: Binding | None) -> tuple[str, Cleanup]:
        """The real body of a received message, and how to delete its S3 copy once it is settled.

        `expect` is the binding the message's own routing implies (None when it names no
        sender: any pointer is then refused). Raises `ClaimCheckRefusedError` for a pointer
        that is not followed (nothing is deleted then), `EndpointUnreachableError` when S3
        cannot be reached at all.
        """
        pointer = attributes.get(CLAIM_CHECK)
        if pointer is None:
            return body, nothing
        if expect is None:
            _refuse(pointer, "the message names no client id or reply address to bind it to")
        claimed = attributes.get(CLAIM_DIGEST)
        key = self._own_key(pointer, claimed)
        assert self.bucket is not None and claimed is not None
        s3 = aws.client("s3", self.settings)
        try:
            response = await aws.call(s3.get_object, Bucket=self.bucket, Key=key)
        except EndpointUnreachableError:
            raise
        except TransportError as exc:
            _refuse(pointer, f"cannot read it: {exc}")
        metadata = {k.lower(): v for k, v in (response.get("Metadata") or {}).items()}
        if metadata.get(_META_DIGEST) != claimed or not expect.admits(metadata, claimed):
            response["Body"].close()  # not ours to read: the body is never downloaded
            _refuse(pointer, f"it is not bound to this message ({expect.direction}, client {expect.client_id!r})")
        payload = await aws.call(response["Body"].read)
        if _sha256(payload) != claimed:
            _refuse(pointer, "its content does not match the digest the message carries")

        async def cleanup() -> None:
            try:
                await aws.call(s3.delete_object, Bucket=self.bucket, Key=key)
            except TransportError as exc:
                logger.warning("could not delete payload %s (the bucket's lifecycle rule will): %s", pointer, exc)

        return payload.decode(errors="replace"), cleanup

    def _own_key(self, pointer: str, digest: str | None) -> str:
        """The key of a pointer into our own bucket and prefix, with a well-formed digest; else refused."""
        if self.bucket is None:
            _refuse(pointer, "no payload bucket is configured here")
        try:
            parts = urlsplit(pointer)
        except ValueError:
            _refuse(pointer, "it is not a URL")
        key = parts.path[1:]
        if parts.scheme != "s3" or parts.netloc != self.bucket or parts.query or parts.fragment:
            _refuse(pointer, f"it does not point into bucket {self.bucket!r}")
        if not _KEY.fullmatch(key):
            _refuse(pointer, f"its key is not a payload key under {KEY_PREFIX!r}")
        if digest is None or not _DIGEST.fullmatch(digest):
            _refuse(pointer, f"the message has no well-formed {CLAIM_DIGEST} attribute")
        return key


def _refuse(pointer: str, reason: str) -> NoReturn:
    logger.debug("claim check %.300r refused: %s", pointer, reason)
    raise ClaimCheckRefusedError()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
