"""One webhook receiver for many clients of one process, demultiplexed by client id.

A client normally runs a receiver of its own. A process with many clients (a
proxy gives every front session its own backend client) would then listen on
one port per client: a fixed ``webhook_listen`` address works for the first
client only ("Address already in use"), and an ephemeral one leaves a
listener per session open for as long as the session lives.

So while `WebhookEndpoints.clients()` runs, the transport's clients attach to
one receiver instead. Every webhook a server sends names its client in the
``asyncmcp-client-id`` header (signing covers the body, and every client of
this receiver trusts the same secrets, so a header naming another client of
the same process gains nothing). A webhook is handed to the client it names;
one naming no client of this receiver (it has left, or never was here) gets
``410 Gone``, which the sender takes as final. A webhook without the header
goes to the only attached client, if there is exactly one (servers that do not
set it), and is refused otherwise: guessing could hand an answer to the wrong
client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.webhook.receiver import WebhookHandler

logger = logging.getLogger(__name__)


class SharedReceiver:
    """The handlers of the clients attached to one receiver, by client id."""

    def __init__(self) -> None:
        self._handlers: dict[str, WebhookHandler] = {}

    @property
    def client_ids(self) -> frozenset[str]:
        return frozenset(self._handlers)

    @contextmanager
    def attached(self, client_id: str, handler: WebhookHandler) -> Iterator[None]:
        """Route the webhooks for `client_id` to `handler` while the block runs."""
        if client_id in self._handlers:
            raise ValueError(f"client id {client_id} is already attached to this webhook receiver")
        self._handlers[client_id] = handler
        try:
            yield
        finally:
            del self._handlers[client_id]

    async def accept(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The receiver's handler: pass the webhook to the client it names."""
        owner = headers.get(codec.CLIENT_ID)
        if owner is None and len(self._handlers) == 1:
            owner = next(iter(self._handlers))
        handler = self._handlers.get(owner) if owner is not None else None
        if handler is None:
            logger.info("refused a webhook for client %s: no such client listens here (any more)", owner or "(unnamed)")
            return 410
        return await handler(body, headers)
