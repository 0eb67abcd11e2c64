"""Which reply addresses a server is willing to write to.

A client names its own reply address. Without a check, anyone who can put a
message on the request queue could make the server write to any queue, topic
or URL the server's credentials reach.

An address is first *parsed*, and refused outright unless it has one of these
exact shapes (so that no pattern ever sees a disguised address such as
``.../ACCOUNT/victim?x=/allowed-name``):

- an SQS queue URL: ``http(s)://HOST[:PORT]/ACCOUNT/NAME``, where ACCOUNT is
  twelve digits and NAME a queue name (letters, digits, ``-``, ``_``, up to 80,
  optionally ending in ``.fifo``); no user info, query, fragment or further
  path segments;
- an SQS or SNS ARN: ``arn:PARTITION:sqs|sns:REGION:ACCOUNT:NAME``, exactly six
  fields;
- a bare queue or topic name, which the server resolves at its own endpoint.

Control characters (NUL included), spaces and non-ASCII text are never part of
a valid address. Webhook URLs are judged by the webhook transports' own
`UrlPolicy`, not here.

A parsed address is admitted when it matches one of the glob patterns:

- a pattern with ``://`` (or starting with ``arn:``) is matched against the
  whole address;
- any other pattern is matched against the address's queue or topic name, and
  the address must live at the same endpoint and account as the server's own
  queue (its `home`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from asyncmcp_cli.errors import ReplyAddressRefusedError

MAX_ADDRESS_LENGTH = 1024

_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}(\.fifo)?")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}(\.fifo)?|[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_NETLOC = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")
_PARTITION = re.compile(r"aws(-[a-z]+)*")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_ARN_SERVICES = ("sqs", "sns")


class MalformedReplyAddressError(ReplyAddressRefusedError):
    """A reply address that is not a well-formed queue URL, ARN or name; refused before any pattern."""


@dataclass(frozen=True)
class ReplyAddress:
    """A reply address that parsed: its text, its queue or topic name, and where it lives."""

    text: str
    name: str
    home: tuple[str, ...] | None
    """(scheme, host, port, account) of a queue URL, (partition, service, region, account) of an
    ARN; None for a bare name (the server's own endpoint and account)."""


def parse_reply_address(text: str) -> ReplyAddress:
    """Parse `text` as a queue URL, an SQS/SNS ARN or a bare name; raise `MalformedReplyAddressError`."""
    if not isinstance(text, str) or not text:
        raise MalformedReplyAddressError("empty reply address")
    if len(text) > MAX_ADDRESS_LENGTH:
        raise MalformedReplyAddressError(f"reply address of {len(text)} characters is too long")
    if not (text.isascii() and text.isprintable()) or " " in text:
        raise MalformedReplyAddressError(f"reply address {text!r} contains control, space or non-ASCII characters")
    if text.startswith("arn:"):
        return _parse_arn(text)
    if "://" in text:
        return _parse_queue_url(text)
    if _NAME.fullmatch(text):
        return ReplyAddress(text, text, None)
    raise MalformedReplyAddressError(f"reply address {text!r} is not a queue URL, an ARN or a queue or topic name")


def _parse_arn(text: str) -> ReplyAddress:
    fields = text.split(":")
    if len(fields) != 6:
        raise MalformedReplyAddressError(f"reply address {text!r} is not an ARN of six fields")
    _, partition, service, region, account, name = fields
    if not (
        _PARTITION.fullmatch(partition)
        and service in _ARN_SERVICES
        and _REGION.fullmatch(region)
        and _ACCOUNT.fullmatch(account)
        and _NAME.fullmatch(name)
    ):
        raise MalformedReplyAddressError(f"reply address {text!r} is not a well-formed SQS or SNS ARN")
    return ReplyAddress(text, name, (partition, service, region, account))


def _parse_queue_url(text: str) -> ReplyAddress:
    if "?" in text or "#" in text:
        raise MalformedReplyAddressError(f"reply address {text!r} carries a query or fragment")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise MalformedReplyAddressError(f"reply address {text!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise MalformedReplyAddressError(f"reply address {text!r}: a queue URL is http or https")
    if not _NETLOC.fullmatch(parts.netloc):
        raise MalformedReplyAddressError(f"reply address {text!r}: the host part is not a plain host[:port]")
    segments = parts.path.split("/")
    if len(segments) != 3 or segments[0] or not _ACCOUNT.fullmatch(segments[1]):
        raise MalformedReplyAddressError(f"reply address {text!r}: a queue URL's path is exactly /ACCOUNT/NAME")
    name = segments[2]
    if not _QUEUE_NAME.fullmatch(name):
        raise MalformedReplyAddressError(f"reply address {text!r}: {name!r} is not a queue name")
    host = (parts.hostname or "").lower()
    return ReplyAddress(text, name, (parts.scheme, host, str(port or ""), segments[1]))


@dataclass(frozen=True)
class AllowList:
    patterns: tuple[str, ...]
    home: str | None = None
    """An address of the server's own (its request queue URL or topic ARN)."""

    @classmethod
    def of(cls, patterns: Iterable[str], *, home: str | None = None) -> AllowList:
        return cls(tuple(p for p in patterns if p), home)

    def admits(self, address: str) -> bool:
        try:
            self.check(address)
        except ReplyAddressRefusedError:
            return False
        return True

    def check(self, address: str) -> ReplyAddress:
        """The parsed address if admitted; else raise `ReplyAddressRefusedError` saying why."""
        parsed = parse_reply_address(address)
        for pattern in self.patterns:
            if _is_full(pattern):
                if fnmatch.fnmatchcase(parsed.text, pattern):
                    return parsed
            elif fnmatch.fnmatchcase(parsed.name, pattern) and self._same_home(parsed):
                return parsed
        raise ReplyAddressRefusedError(f"reply address {address!r} is not admitted by the allow-list")

    def _same_home(self, address: ReplyAddress) -> bool:
        if self.home is None or address.home is None:
            return True
        try:
            home = parse_reply_address(self.home).home
        except MalformedReplyAddressError:
            return False
        return address.home == home


def _is_full(text: str) -> bool:
    return "://" in text or text.startswith("arn:")
