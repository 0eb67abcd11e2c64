"""Run one HTTP request through an ASGI app in-process and collect the JSON-RPC messages it answers with.

This is how a webhook tool call is executed: the original request is replayed
into the SDK's streamable-HTTP session manager unchanged (same headers, same
body, same session), and whatever the manager writes back, a JSON body or an
SSE stream of notifications ending in the response, is handed message by
message to a callback as it is produced (so progress notifications travel as
they happen). The request "disconnects" once the callback has seen the
response, which is how the SDK learns the exchange is over.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import httpx2
from anyio.streams.memory import MemoryObjectReceiveStream
from starlette.types import ASGIApp, Message, Scope

OnMessage = Callable[[dict[str, Any]], Awaitable[bool]]
"""on_message(message) -> True when it was the final one (the response)."""

_PSEUDO_REQUEST = httpx2.Request("POST", "http://asyncmcp.invalid/")
"""httpx2's SSE reader wants a request on the response; nothing is sent to it."""


class _Chunks(httpx2.AsyncByteStream):
    def __init__(self, chunks: MemoryObjectReceiveStream[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        self._chunks.close()


async def run_captured(app: ASGIApp, scope: Scope, body: bytes, on_message: OnMessage) -> int | None:
    """Serve `body` through `app`; feed each JSON-RPC message of the answer to `on_message`.

    Returns the HTTP status the app answered with (None if it answered nothing).
    """
    finished = anyio.Event()
    started = anyio.Event()
    start: dict[str, Any] = {}
    send_chunks, chunks = anyio.create_memory_object_stream[bytes](16)
    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            started.set()
        elif message["type"] == "http.response.body":
            if message.get("body"):
                with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                    await send_chunks.send(message["body"])  # fails once we stopped reading: the response was seen
            if not message.get("more_body", False):
                send_chunks.close()

    async def run_app() -> None:
        try:
            await app(dict(scope), receive, send)
        finally:
            send_chunks.close()
            started.set()

    async with chunks, anyio.create_task_group() as tg:
        tg.start_soon(run_app)
        await started.wait()
        if start:
            headers = [(k, v) for k, v in start.get("headers", [])]
            response = httpx2.Response(
                start["status"], headers=headers, stream=_Chunks(chunks), request=_PSEUDO_REQUEST
            )
            await _read_messages(response, on_message)
        finished.set()
    return start.get("status")


async def _read_messages(response: httpx2.Response, on_message: OnMessage) -> None:
    content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == "text/event-stream":
        async for event in httpx2.EventSource(response):
            if event.data and await _hand_over(event.data, on_message):
                return
        return
    content = await response.aread()
    if content:
        await _hand_over(content, on_message)


async def _hand_over(data: str | bytes, on_message: OnMessage) -> bool:
    try:
        message = json.loads(data)
    except ValueError:
        return False
    return isinstance(message, dict) and await on_message(message)
