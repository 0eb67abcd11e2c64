"""Sending a server's messages to a client's reply address, for the `SessionHub`.

Two kinds of failure are told apart:

- transient (throttling, a lost connection, an endpoint outage): retried with
  backoff for up to `retry_seconds`, then the caller gives the request back
  for redelivery;
- the address is unreachable (`DestinationUnreachableError`: the queue or
  topic does not exist, or this server may not write to it): a few quick
  tries (a just-created queue can take a moment to appear), then the caller
  settles the request for good. The address is remembered as unreachable for
  `unreachable_ttl` seconds, so a flood of messages naming it costs no sends.

The memory is keyed by the exact address that failed and filled only by a
real failure of a send to it, so no client can make another's working address
look unreachable; its entries expire, so a queue that comes back is used again.
"""

from __future__ import annotations

import enum
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Mapping
from typing import Protocol

import anyio
import mcp_types as types

from asyncmcp_cli.errors import DestinationUnreachableError, PayloadTooLargeError, TransportError
from asyncmcp_cli.observability import recorder
from asyncmcp_cli.protocol import codec

logger = logging.getLogger(__name__)


class ReplySender(Protocol):
    """send(reply_to, client_id, message, extra, reply_ttl=...): put one message on the client's reply channel.

    `extra` are attributes (or headers) to carry beside it, such as its sequence
    number. `reply_ttl` is how long the client asked its answers to wait for it
    (None: it did not say); channels whose messages wait on a queue stamp an
    expiry from it (`asyncmcp_cli.delivery.reply_expiry`), the others ignore it.
    """

    def __call__(
        self,
        reply_to: str,
        client_id: str,
        message: types.JSONRPCMessage,
        extra: Mapping[str, str],
        *,
        reply_ttl: float | None = None,
    ) -> Awaitable[None]: ...


RETRY_SECONDS = 60.0
UNREACHABLE_DELAYS = (0.25, 0.5, 1.0)
"""Pauses between the tries of an address that reports itself unreachable (four tries, under 2 s)."""
UNREACHABLE_TTL_SECONDS = 30.0
MAX_REMEMBERED = 1024


class Sent(enum.Enum):
    """How a send ended."""

    SENT = "sent"
    UNREACHABLE = "unreachable"
    """The address does not exist or refuses us: settle the request for good (dead letter)."""
    GAVE_UP = "gave up"
    """Transient errors outlasted the retry window: give the request back for redelivery."""


class Replies:
    """Sends with retries, and a short memory of reply addresses that proved unreachable."""

    def __init__(
        self,
        send: ReplySender,
        *,
        retry_seconds: float = RETRY_SECONDS,
        unreachable_ttl: float = UNREACHABLE_TTL_SECONDS,
    ) -> None:
        self._send = send
        self._retry_seconds = retry_seconds
        self._unreachable_ttl = unreachable_ttl
        self._unreachable: OrderedDict[str, float] = OrderedDict()

    def known_unreachable(self, reply_to: str) -> bool:
        """True while `reply_to` is remembered as unreachable (a send to it failed for good)."""
        until = self._unreachable.get(reply_to)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        del self._unreachable[reply_to]
        return False

    async def send(
        self,
        reply_to: str,
        client_id: str,
        message: types.JSONRPCMessage,
        extra: Mapping[str, str] | None = None,
        *,
        reply_ttl: float | None = None,
    ) -> Sent:
        """Send one message, retrying as its failures deserve; never raises a channel error."""
        if self.known_unreachable(reply_to):
            logger.debug("not sending to %s for client %s: known to be unreachable", reply_to, client_id)
            return Sent.UNREACHABLE
        delay = 0.2
        deadline = time.monotonic() + self._retry_seconds
        unreachable_tries = iter(UNREACHABLE_DELAYS)
        while True:
            try:
                await self._send(reply_to, client_id, message, extra or {}, reply_ttl=reply_ttl)
                return Sent.SENT
            except PayloadTooLargeError as exc:
                if not codec.is_reply(message):
                    logger.error("dropping oversize message to client %s: %s", client_id, exc)
                    return Sent.GAVE_UP
                logger.warning("response to client %s is too large: %s", client_id, exc)
                message = codec.error_reply(codec.request_id_of(message), types.INTERNAL_ERROR, f"asyncmcp: {exc}")
            except DestinationUnreachableError as exc:
                pause = next(unreachable_tries, None)
                if pause is None:
                    self._remember_unreachable(reply_to, client_id, exc)
                    return Sent.UNREACHABLE
                recorder.current().reply_retry()
                await anyio.sleep(pause)
            except TransportError as exc:
                if time.monotonic() + delay > deadline:
                    logger.error("giving up sending to %s for client %s: %s", reply_to, client_id, exc)
                    return Sent.GAVE_UP
                logger.warning("send to %s failed (%s); retrying in %.1fs", reply_to, exc, delay)
                recorder.current().reply_retry()
                await anyio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _remember_unreachable(self, reply_to: str, client_id: str, exc: Exception) -> None:
        if not self.known_unreachable(reply_to):
            logger.warning(
                "reply address %r of client %s is unreachable (%s); its requests are dead-lettered, "
                "and messages naming it in the next %.0f s are dead-lettered without trying",
                reply_to,
                client_id,
                exc,
                self._unreachable_ttl,
            )
        self._unreachable[reply_to] = time.monotonic() + self._unreachable_ttl
        self._unreachable.move_to_end(reply_to)
        while len(self._unreachable) > MAX_REMEMBERED:
            self._unreachable.popitem(last=False)
