"""Standard Webhooks v1 signatures, with several secrets at once and a replay cache.

Every webhook carries ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` (HMAC-SHA256 over ``id.timestamp.body``), computed by the
`standardwebhooks` library. Secrets are ``whsec_`` followed by base64.

Rotation: a sender holding several secrets signs with all of them (the header
carries one ``v1,...`` signature per secret) and a receiver accepts a webhook
that any of its secrets verifies. So the new secret is added on both sides
first, then the old one is removed, and no webhook fails in between.

Replays: the library rejects timestamps more than five minutes from now; a
`ReplayCache` rejects a ``webhook-id`` seen before within that window.
"""

from __future__ import annotations

import base64
import binascii
import secrets as _random
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from asyncmcp_cli.errors import ConfigurationError

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
"""Standard Webhooks recommends secrets of 24 to 64 random bytes."""
TOLERANCE_SECONDS = 5 * 60
"""How far a timestamp may be from now (enforced by `standardwebhooks`)."""

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class VerificationError(Exception):
    """A webhook that must not reach the session; `status` is the HTTP answer to give."""

    status = 401


class ReplayedError(VerificationError):
    """A correctly signed webhook whose id was already accepted.

    Answered 409: a sender retrying after a lost acknowledgement learns that
    its webhook did arrive, and stops.
    """

    status = 409


def generate_secret(size: int = 32) -> str:
    """A new random secret in ``whsec_`` form."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(size)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def parse_secrets(values: Iterable[str]) -> tuple[Webhook, ...]:
    """Validate ``whsec_`` secrets (also comma- or space-separated in one value)."""
    texts = [part for value in values for part in value.replace(",", " ").split() if part]
    if not texts:
        raise ConfigurationError(
            "webhooks need a signing secret: pass --webhook-secret or set ASYNCMCP_WEBHOOK_SECRET "
            "(make one with: python -c 'from asyncmcp_cli.transports.webhook.signing import generate_secret; "
            "print(generate_secret())')"
        )
    return tuple(_webhook_for(text) for text in texts)


def _webhook_for(text: str) -> Webhook:
    if not text.startswith(SECRET_PREFIX):
        raise ConfigurationError(f"a webhook secret must start with {SECRET_PREFIX!r} (got {_redact(text)})")
    try:
        encoded = text[len(SECRET_PREFIX) :]
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"webhook secret {_redact(text)} is not base64 after {SECRET_PREFIX!r}") from None
    if len(raw) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"webhook secret {_redact(text)} is {len(raw)} bytes; use at least {MIN_SECRET_BYTES} random bytes"
        )
    return Webhook(raw)


def _redact(text: str) -> str:
    return repr(text[:10] + "...") if len(text) > 10 else "a short value"


class Signer:
    """Signs outgoing webhooks with every configured secret."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._hooks = parse_secrets(secrets)

    def headers(self, body: str, *, message_id: str, now: datetime | None = None) -> dict[str, str]:
        """The three Standard Webhooks headers for `body`; call again for each attempt (fresh timestamp)."""
        timestamp = now or datetime.now(tz=timezone.utc)
        signatures = " ".join(hook.sign(message_id, timestamp, body) for hook in self._hooks)
        return {
            ID_HEADER: message_id,
            TIMESTAMP_HEADER: str(int(timestamp.timestamp())),
            SIGNATURE_HEADER: signatures,
        }


class Verifier:
    """Checks incoming webhooks against any of the configured secrets."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._hooks = parse_secrets(secrets)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        """Return the webhook's id, or raise `VerificationError` saying why it is refused."""
        lowered = {k.lower(): v for k, v in headers.items()}
        if not all(lowered.get(name) for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)):
            raise VerificationError("missing webhook signature headers")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise VerificationError("body is not UTF-8") from None
        reason = "no matching signature"
        for hook in self._hooks:
            try:
                hook.verify(text, lowered, json_parse=False)
            except WebhookVerificationError as exc:
                reason = _reason(str(exc))
                if reason != "no matching signature":
                    break  # a timestamp or header problem is the same for every secret
            except (ValueError, binascii.Error):  # a malformed signature list trips the library's parsing
                reason = "malformed webhook-signature header"
                break
            else:
                return lowered[ID_HEADER]
        raise VerificationError(reason)


def _reason(library_message: str) -> str:
    text = library_message.lower()
    if "too old" in text or "too new" in text:
        return f"timestamp outside ±{TOLERANCE_SECONDS // 60} minutes"
    if "header" in text:
        return "invalid webhook-timestamp header"
    return "no matching signature"


class ReplayCache:
    """Webhook ids accepted recently; a second arrival of one is a replay.

    An id has to be remembered as long as its timestamp could still pass the
    tolerance check: up to twice the tolerance after first sight. The cache is
    bounded; past `max_entries` the oldest ids are forgotten first.
    """

    def __init__(
        self,
        *,
        ttl: float = 2 * TOLERANCE_SECONDS + 60,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def claim(self, message_id: str) -> bool:
        """Record `message_id`; False when it was already recorded (a replay)."""
        now = self._clock()
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at < self._ttl and len(self._seen) < self._max:
                break
            del self._seen[oldest]
        if message_id in self._seen:
            return False
        self._seen[message_id] = now
        return True

    def release(self, message_id: str) -> None:
        """Forget `message_id`, so a retry of a webhook that was not handled is accepted."""
        self._seen.pop(message_id, None)

    def __len__(self) -> int:
        return len(self._seen)
