"""The client side of ``http+webhook``: the SDK's streamable-HTTP client, with webhook results fed in.

The SDK's `streamable_http_client` does all of MCP over HTTP. Two pieces sit
beside it:

- `WebhookResultTransport`, the httpx2 transport under the SDK's HTTP client.
  When the server answers a request with ``202 Accepted`` and
  ``asyncmcp-delivery: webhook``, it hands the SDK, in place of that empty
  answer, an event stream that yields the messages the webhooks bring for that
  request id (progress, then the response). So the result reaches the caller
  as the answer to its own request, through the SDK's usual SSE path, and the
  SDK's timeouts and cancellation apply unchanged;
- `PendingResults.accept`, the handler for the client's receiver, which routes
  each verified webhook to the request waiting for it. A webhook for no
  waiting request is dropped (a duplicate, or a request given up on); one
  whose body is not JSON-RPC goes down the session's read stream as an
  Exception.

A slot is opened for every request *before* it is sent, so a webhook that
overtakes the ``202`` is not lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import anyio
import httpx2
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.http_webhook.router import DELIVERY_HEADER, REQUEST_ID_HEADER

logger = logging.getLogger(__name__)

Delivered = tuple[str, bool]
"""(one JSON-RPC message as compact JSON, whether it is the final response)."""

SLOT_SIZE = 32
"""Webhooks for one request (progress notifications, the response) buffered until the SDK reads them."""


class PendingResults:
    """Webhook results for the requests this client has sent, by request id."""

    def __init__(self, on_bad_input: Callable[[Exception], Awaitable[None]]) -> None:
        self._slots: dict[
            types.RequestId, tuple[MemoryObjectSendStream[Delivered], MemoryObjectReceiveStream[Delivered]]
        ] = {}
        self._on_bad_input = on_bad_input

    def open(self, rid: types.RequestId) -> MemoryObjectReceiveStream[Delivered]:
        self.close(rid)
        send, receive = anyio.create_memory_object_stream[Delivered](SLOT_SIZE)
        self._slots[rid] = (send, receive)
        return receive

    def close(self, rid: types.RequestId) -> None:
        for stream in self._slots.pop(rid, ()):
            stream.close()

    def close_all(self) -> None:
        for rid in list(self._slots):
            self.close(rid)

    async def accept(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The receiver's handler (see the module docstring)."""
        try:
            message = codec.decode(body)
        except codec.DecodeError as exc:
            try:
                await self._on_bad_input(exc)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return 410
            return 202
        rid = _header_id(headers.get(REQUEST_ID_HEADER)) if REQUEST_ID_HEADER in headers else None
        if rid is None:
            rid = codec.request_id_of(message)
        slot = self._slots.get(rid) if rid is not None else None
        if slot is None:
            logger.debug("ignoring a webhook for request %r, which is not waiting", rid)
            return 200
        try:
            await slot[0].send((codec.encode(message), codec.is_reply(message)))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            logger.debug("request %r was given up while its webhook arrived", rid)
        return 202


def _header_id(text: str | None) -> types.RequestId | None:
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


class _WebhookEvents(httpx2.AsyncByteStream):
    """The messages webhooks bring for one request, as the SSE stream the SDK expects."""

    def __init__(self, results: MemoryObjectReceiveStream[Delivered], on_close: Callable[[], None]) -> None:
        self._results = results
        self._on_close = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for text, final in self._results:
            yield b"event: message\ndata: " + text.encode() + b"\n\n"
            if final:
                return

    async def aclose(self) -> None:
        self._results.close()
        self._on_close()


class WebhookResultTransport(httpx2.AsyncBaseTransport):
    """Wraps the real HTTP transport; turns webhook-delivered answers into the request's own response."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, pending: PendingResults) -> None:
        self._inner = inner
        self._pending = pending

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        rid = _request_id(request)
        if rid is None:
            return await self._inner.handle_async_request(request)
        results = self._pending.open(rid)
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._pending.close(rid)
            raise
        if response.status_code != 202 or response.headers.get(DELIVERY_HEADER) != "webhook":
            self._pending.close(rid)
            return response
        await response.aclose()
        logger.debug("request %r accepted; its result will arrive by webhook", rid)
        return httpx2.Response(
            200,
            headers={"content-type": "text/event-stream", DELIVERY_HEADER: "webhook"},
            stream=_WebhookEvents(results, lambda: self._pending.close(rid)),
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def _request_id(request: httpx2.Request) -> types.RequestId | None:
    """The JSON-RPC id of a POSTed request (not of a notification or a response)."""
    if request.method != "POST":
        return None
    try:
        message = json.loads(request.content)
    except (ValueError, httpx2.RequestNotRead):
        return None
    if not isinstance(message, dict) or "method" not in message:
        return None
    rid = message.get("id")
    return rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None
