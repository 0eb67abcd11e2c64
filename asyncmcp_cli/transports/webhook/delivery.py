"""POSTs that are retried until they land: webhook deliveries and client requests.

`post_with_retry` retries connection errors, timeouts, 408/425/429 and 5xx
with exponential backoff and jitter, waiting at least as long as a
``Retry-After`` header asks (seconds or an HTTP date, capped). Any other 4xx
stops at once: the receiver has said the request is wrong, and resending it
will not help. Redirects are not followed (a redirect could lead around the
URL allow-list).

`WebhookSender` is what a server uses: it checks the URL policy, signs each
attempt afresh (same ``webhook-id``, new timestamp, as Standard Webhooks
prescribes for retries), and when the last attempt fails it logs one line and
keeps the response in the dead-letter file. A 409 from a receiver means "this
webhook id already arrived" (see `signing.ReplayedError`) and counts as
delivered.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import anyio
import httpx2

from asyncmcp_cli.errors import PayloadTooLargeError
from asyncmcp_cli.observability import recorder
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.webhook.deadletter import DeadLetter, DeadLetterFile
from asyncmcp_cli.transports.webhook.signing import Signer, new_message_id
from asyncmcp_cli.transports.webhook.urlpolicy import UrlPolicy, WebhookUrlRefusedError

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429})
ALREADY_DELIVERED = 409


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float = 10.0
    """Seconds for one attempt (connect, send, and the receiver's answer)."""
    max_retry_after: float = 300.0
    """The longest ``Retry-After`` honoured; longer requests are cut to this."""

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt number `attempt` (1-based): exponential, with jitter in its upper half."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    status: int | None = None
    error: str = ""

    @property
    def reason(self) -> str:
        return self.error or (f"HTTP {self.status}" if self.status is not None else "not attempted")


def retryable(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(tz=timezone.utc))).total_seconds())


async def post_with_retry(
    client: httpx2.AsyncClient,
    url: str,
    body: str,
    *,
    headers: Callable[[], Mapping[str, str]],
    policy: RetryPolicy,
    on_response: Callable[[httpx2.Response, bytes], None] | None = None,
) -> Outcome:
    """POST `body` to `url` until it is accepted, refused for good, or attempts run out.

    `headers()` is called for every attempt (signatures carry a timestamp).
    `on_response(response, body)` sees the final answer, for callers that
    read it (a JSON-RPC error in a 4xx body, say).
    """
    outcome = Outcome(False, 0)
    for attempt in range(1, policy.attempts + 1):
        outcome, wait_at_least = await _attempt(client, url, body, headers(), policy, attempt, on_response)
        if outcome.delivered or (outcome.status is not None and not retryable(outcome.status)):
            return outcome
        if attempt < policy.attempts:
            delay = max(policy.backoff(attempt), wait_at_least)
            logger.debug("POST to %s failed (%s); attempt %d in %.2fs", url, outcome.reason, attempt + 1, delay)
            await anyio.sleep(delay)
    return outcome


async def _attempt(
    client: httpx2.AsyncClient,
    url: str,
    body: str,
    headers: Mapping[str, str],
    policy: RetryPolicy,
    attempt: int,
    on_response: Callable[[httpx2.Response, bytes], None] | None,
) -> tuple[Outcome, float]:
    """One POST: its outcome, and how long ``Retry-After`` asks to wait before the next."""
    try:
        with anyio.move_on_after(policy.timeout * 2) as scope:  # also bounds a receiver trickling its answer
            async with client.stream(
                "POST", url, content=body.encode(), headers=dict(headers), timeout=policy.timeout
            ) as response:
                content = await response.aread() if on_response is not None else b""
    except httpx2.TransportError as exc:  # connect errors, timeouts, broken connections
        return Outcome(False, attempt, None, f"{type(exc).__name__}: {exc}".rstrip(": ")), 0.0
    if scope.cancelled_caught:
        return Outcome(False, attempt, None, "timed out"), 0.0
    status = response.status_code
    outcome = Outcome(200 <= status < 300 or status == ALREADY_DELIVERED, attempt, status)
    if on_response is not None and (outcome.delivered or not retryable(status)):
        on_response(response, content)
    wait = retry_after_seconds(response.headers.get("retry-after")) or 0.0
    return outcome, min(wait, policy.max_retry_after)


class WebhookSender:
    """Delivers a server's messages to client webhooks: policy, signatures, retries, dead letters."""

    def __init__(
        self,
        client: httpx2.AsyncClient,
        *,
        signer: Signer,
        policy: UrlPolicy,
        retry: RetryPolicy,
        dead_letter: DeadLetterFile,
        max_body_bytes: int,
    ) -> None:
        self._client = client
        self._signer = signer
        self._policy = policy
        self._retry = retry
        self._dead_letter = dead_letter
        self._max_body = max_body_bytes

    async def send(self, url: str, body: str, *, client_id: str, headers: Mapping[str, str] | None = None) -> bool:
        """Deliver `body`; True once the receiver accepted it.

        Raises `PayloadTooLargeError` (before any POST) when `body` exceeds the
        receivers' limit, so the caller can send a small error instead. Every
        other failure ends in the dead-letter file and returns False.
        """
        size = len(body.encode())
        if size > self._max_body:
            raise PayloadTooLargeError(f"message of {size} bytes exceeds the webhook limit of {self._max_body} bytes")
        message_id = new_message_id()
        extra = dict(headers or {})

        def attempt_headers() -> dict[str, str]:
            fixed = {"content-type": "application/json", codec.CLIENT_ID: client_id}
            return fixed | extra | self._signer.headers(body, message_id=message_id)

        started = time.monotonic()
        outcome = Outcome(False, 0)
        try:
            await self._policy.check(url)
            outcome = await post_with_retry(self._client, url, body, headers=attempt_headers, policy=self._retry)
        except WebhookUrlRefusedError as exc:
            outcome = Outcome(False, 0, None, str(exc))
        except anyio.get_cancelled_exc_class():  # the server is shutting down: keep what we were sending
            with anyio.CancelScope(shield=True):
                interrupted = Outcome(False, outcome.attempts, None, "the server shut down during delivery")
                await self._give_up(url, client_id, message_id, body, interrupted)
            raise
        if outcome.delivered:
            logger.debug("webhook %s to %s delivered in %.3fs", message_id, url, time.monotonic() - started)
            recorder.current().webhook_delivered()
            return True
        await self._give_up(url, client_id, message_id, body, outcome)
        return False

    async def _give_up(self, url: str, client_id: str, message_id: str, body: str, outcome: Outcome) -> None:
        recorder.current().webhook_dead_lettered()
        logger.error(
            "webhook %s to %s for client %s not delivered (%s; %d attempt(s)); kept in %s",
            message_id,
            url,
            client_id,
            outcome.reason,
            outcome.attempts,
            self._dead_letter.path,
        )
        await self._dead_letter.write(DeadLetter(url, client_id, message_id, outcome.attempts, outcome.reason, body))
