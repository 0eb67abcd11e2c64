"""The proxy as an SDK server: every request goes, as it is, to the front client's backend lane.

The fronts (streamable HTTP, stdio) are the SDK's own server transports, and
they need an SDK `Server`. This one has no handlers of its own: one
middleware (the SDK's hook that wraps every inbound request and notification)
sends each request, ``initialize`` included, to the backend lane of the
client that sent it, and returns the backend's raw result. So the front
client talks to the backend server in whatever protocol era it chose, sees
the backend's own capabilities, and gets the backend's errors unchanged; the
proxy adds only its own errors (timeout, backend unreachable).

A front may answer ``initialize`` itself instead (the stdio front does, so
that a host is answered at once: see `early`); the backend then gets the
host's ``initialize`` when the host's lane opens, which starts in the
background as soon as the host says it is initialized.

Notifications: ``notifications/initialized`` and other client notifications
go to the connection's lane; cancellation is applied by the SDK dispatcher
(it cancels the forwarding, which cancels the backend request), so it is not
forwarded under the front's request id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from mcp.server.context import CallNext, HandlerResult
from mcp.server.lowlevel.server import Server

from asyncmcp_cli.observability import recorder
from asyncmcp_cli.protocol.relay import Ctx, forward
from asyncmcp_cli.proxy.backend import Backend
from asyncmcp_cli.proxy.early import initialize_result

logger = logging.getLogger(__name__)

_NOT_FORWARDED = frozenset({"notifications/cancelled", "notifications/progress"})


class ForwardToBackend:
    """`ServerMiddleware` that answers every request from the backend."""

    def __init__(self, backend: Backend, *, call_timeout: float | None) -> None:
        self._backend = backend
        self._call_timeout = call_timeout

    async def __call__(self, ctx: Ctx, call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:
            await self._notification(ctx, call_next)
            return None
        metrics = recorder.current()
        metrics.request_received(ctx.method)
        metrics.request_started()
        started = time.monotonic()
        try:
            result = await self._request(ctx)
        except Exception:
            metrics.request_answered(ctx.method, time.monotonic() - started, error=True)
            raise
        else:
            metrics.request_answered(ctx.method, time.monotonic() - started, error=False)
            return result
        finally:
            metrics.request_ended()

    async def _request(self, ctx: Ctx) -> HandlerResult:
        if ctx.method == "initialize" and self._backend.handshakes_itself:
            return initialize_result(ctx.params or {}, self._backend.identity)
        async with self._backend.lane(ctx) as lane:
            with lane.routes.serving(ctx):
                result = await forward(lane, ctx, ctx.params, call_timeout=self._call_timeout, peer_name="the backend")
            self._backend.tasks.note(ctx.method, lane, result)
            return result

    async def _notification(self, ctx: Ctx, call_next: CallNext) -> None:
        if ctx.method == "notifications/initialized":
            await call_next(ctx)  # the front connection is initialized too
            if self._backend.handshakes_itself:
                self._backend.open_soon(ctx)  # the lane sends its own initialize and initialized
                return
        if ctx.method in _NOT_FORWARDED:
            return
        lane = self._backend.existing_session_lane(ctx)
        if lane is None:
            logger.debug("not forwarding %s: the client has no backend session", ctx.method)
            return
        await lane.notify(ctx.method, ctx.params)


def proxy_server(backend: Backend, *, call_timeout: float | None, name: str = "asyncmcp-proxy") -> Server[Any]:
    """An SDK server whose every answer comes from `backend`."""
    server: Server[Any] = Server(name)
    server.middleware.append(ForwardToBackend(backend, call_timeout=call_timeout))
    return server
