"""The operator's HTTP endpoint: ``/healthz``, ``/readyz`` and ``/metrics`` on their own port.

It runs on the same uvicorn/Starlette stack as the webhook servers, apart
from any port that takes MCP traffic, so a scraper or a probe never needs
the proxy's bearer token and never competes with clients.

- ``/healthz``: 200 while the process's event loop answers (liveness);
- ``/readyz``: 200 when the server is listening and its intake is receiving
  (the last receive from the endpoint succeeded and none has hung), else 503
  with the reason (readiness);
- ``/metrics``: the Prometheus text format.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from asyncmcp_cli.observability.metrics import PrometheusRecorder
from asyncmcp_cli.observability.recorder import install
from asyncmcp_cli.transports.webhook.serving import Bound, parse_host_port, serve_asgi

logger = logging.getLogger(__name__)


def health_app(recorder: PrometheusRecorder) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        problem = recorder.intake.problem()
        if problem is not None:
            return JSONResponse({"status": "not ready", "reason": problem}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics(request: Request) -> Response:
        body, content_type = recorder.exposition()
        return Response(body, media_type=content_type)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def parse_metrics_address(text: str, *, worker_index: int = 0) -> tuple[str, int]:
    """``HOST:PORT`` of ``--metrics``; worker `worker_index` of ``serve --workers`` takes PORT + index
    (port 0: every worker picks a free one)."""
    host, port = parse_host_port(text, default_port=9464)
    return host, (port + worker_index if port else 0)


@asynccontextmanager
async def serving_health(recorder: PrometheusRecorder, host: str, port: int) -> AsyncIterator[Bound]:
    """Serve the endpoint for the duration of the block; yields where it listens."""
    async with serve_asgi(health_app(recorder), host, port, graceful_seconds=1) as bound:
        logger.info("metrics and health at http://%s/metrics, /healthz, /readyz", bound.authority)
        yield bound


@asynccontextmanager
async def observing(address: str | None, transport: str, *, worker_index: int = 0) -> AsyncIterator[Bound | None]:
    """With an `address` (``--metrics HOST:PORT``), count into a fresh Prometheus registry and serve it
    for the duration of the block; yields where it listens (None: metrics off)."""
    if address is None:
        yield None
        return
    host, port = parse_metrics_address(address, worker_index=worker_index)
    metrics = PrometheusRecorder(transport)
    previous = install(metrics)
    try:
        async with serving_health(metrics, host, port) as bound:
            yield bound
    finally:
        install(previous)
