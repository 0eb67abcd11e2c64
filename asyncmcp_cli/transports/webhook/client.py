"""The client side of the ``webhook`` transport: POST what the session writes, read what webhooks bring.

`WebhookClient` holds one SDK session's stream pair. What the session writes
is POSTed to the server, in order (so ``initialize`` is never overtaken by
what follows it); connection errors, 429 and 5xx are retried briefly. A
request that cannot be sent, or that the server refuses with a JSON-RPC error
in a 4xx body, is answered on the read stream at once, so the caller never
hangs.

`accept` is the handler for the client's `receiver_app`: verified webhook
bodies go down the read stream; a body that is not JSON-RPC goes down as an
Exception (as the SDK's own transports do with bad input); responses to ids
this client is not waiting for (duplicates, stale answers) are dropped. The
server POSTs its messages side by side, so they may arrive out of order: they
are put back in the order the server wrote them (`ordering`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio
import httpx2
import mcp_types as types
from mcp.shared.message import SessionMessage

from asyncmcp_cli.delivery import not_sent
from asyncmcp_cli.errors import EndpointUnreachableError, TransportError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports import ordering
from asyncmcp_cli.transports.webhook.delivery import RetryPolicy, post_with_retry, retryable
from asyncmcp_cli.types import TransportStreams

logger = logging.getLogger(__name__)

CLIENT_RETRY = RetryPolicy(attempts=4, base_delay=0.25, max_delay=2.0, timeout=10.0, max_retry_after=10.0)
INBOX_SIZE = 64
"""Webhooks taken but not yet read by the session; a full inbox holds the webhook's HTTP answer back."""


class WebhookClient:
    """One client session over the webhook transport (see the module docstring)."""

    def __init__(
        self, http: httpx2.AsyncClient, *, server_url: str, client_id: str, retry: RetryPolicy = CLIENT_RETRY
    ) -> None:
        self._http = http
        self.server_url = server_url
        self.client_id = client_id
        self._retry = retry
        self._read_writer, self._read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        self._write_stream, self._write_reader = anyio.create_memory_object_stream[SessionMessage](0)
        self._inbox, self._inbox_reader = anyio.create_memory_object_stream[SessionMessage | Exception](INBOX_SIZE)
        self._waiting: set[types.RequestId] = set()
        self._in_order = ordering.Reorder[SessionMessage | Exception](self._take)

    # -- inbound (the receiver's handler) -----------------------------------

    async def accept(self, body: bytes, headers: Mapping[str, str]) -> int:
        owner = headers.get(codec.CLIENT_ID)
        if owner is not None and owner != self.client_id:
            logger.warning("webhook for client %s reached client %s; refused", owner, self.client_id)
            return 404
        item: SessionMessage | Exception
        try:
            item = SessionMessage(codec.decode(body))
        except codec.DecodeError as exc:
            item = exc
        try:
            await self._in_order.put(headers.get(ordering.SEQUENCE), item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return 410  # this session has ended: the sender stops and keeps the message
        return 202

    async def _take(self, item: SessionMessage | Exception) -> None:
        """Into the inbox, in order; a response for an id this client is not waiting for is dropped."""
        if isinstance(item, SessionMessage) and codec.is_reply(item.message):
            rid = codec.request_id_of(item.message)
            if rid not in self._waiting:
                logger.debug("ignoring a response for id %r that this client is not waiting for", rid)
                return
            self._waiting.discard(rid)  # type: ignore[arg-type]
        await self._inbox.send(item)

    # -- outbound -----------------------------------------------------------

    @asynccontextmanager
    async def running(self, reply_url: str) -> AsyncIterator[TransportStreams]:
        """POST what the session writes (with `reply_url` as this client's webhook) while the block runs."""
        routing = {codec.CLIENT_ID: self.client_id, codec.REPLY_TO: reply_url, "content-type": "application/json"}

        async def write_messages() -> None:
            async with self._write_reader:
                async for session_message in self._write_reader:
                    await self._post(session_message.message, routing)

        async def read_messages() -> None:
            async with self._inbox_reader:
                async for item in self._inbox_reader:
                    await self._read_writer.send(item)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(write_messages)
                tg.start_soon(read_messages)
                tg.start_soon(self._in_order.run)
                try:
                    yield self._read_stream, self._write_stream
                finally:
                    tg.cancel_scope.cancel()
        finally:
            for stream in (
                self._inbox,
                self._inbox_reader,
                self._read_writer,
                self._read_stream,
                self._write_stream,
                self._write_reader,
            ):
                stream.close()

    async def _post(self, message: types.JSONRPCMessage, routing: dict[str, str]) -> None:
        rid = codec.request_id_of(message) if codec.is_request(message) else None
        if rid is not None:
            self._waiting.add(rid)
        headers = routing | ({codec.METHOD: method} if (method := codec.method_of(message)) else {})
        refusal: list[types.JSONRPCError] = []

        def read_refusal(response: httpx2.Response, content: bytes) -> None:
            if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
                try:
                    error = codec.decode(content)
                except codec.DecodeError:
                    return
                if isinstance(error, types.JSONRPCError):
                    refusal.append(error)

        outcome = await post_with_retry(
            self._http,
            self.server_url,
            codec.encode(message),
            headers=lambda: headers,
            policy=self._retry,
            on_response=read_refusal,
        )
        if outcome.delivered:
            return
        what = codec.method_of(message) or "message"
        logger.warning("could not send %s to %s: %s", what, self.server_url, outcome.reason)
        if rid is None or rid not in self._waiting:
            return
        self._waiting.discard(rid)
        if refusal:
            error = types.JSONRPCError(jsonrpc="2.0", id=rid, error=refusal[0].error)
        else:
            transient = outcome.status is None or retryable(outcome.status)
            cause = (EndpointUnreachableError if transient else TransportError)(
                f"the webhook server at {self.server_url} did not take it: {outcome.reason}"
            )
            error = not_sent.error_reply(rid, cause)
        try:
            await self._inbox.send(SessionMessage(error))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            logger.debug("session ended before the failure of request %s could be reported", json.dumps(rid))
