"""This project's side of a load-shape benchmark process (see `worker`)."""

from __future__ import annotations

import argparse
import collections
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio

from asyncmcp_cli import aws
from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.client import open_client
from asyncmcp_cli.server import serve as serve_app
from asyncmcp_cli.transports.sqs import SqsTransport


def _transport(args: argparse.Namespace, **options: Any) -> SqsTransport:
    return SqsTransport(
        endpoint_url=args.endpoint_url or None, region=args.region, request_queue=args.request_queue, **options
    )


async def serve(
    args: argparse.Namespace,
    meter: Any,
    executions: collections.Counter[str],
    ready: anyio.Event,
    stop: anyio.Event,
) -> None:
    from mcp.server.mcpserver import MCPServer

    app = MCPServer("bench")

    @app.tool()
    async def echo(text: str) -> str:
        executions[text] += 1
        return text

    transport = _transport(args, max_in_flight=256)
    meter.watch(aws.client("sqs", transport.options.aws))
    await serve_app(as_lowlevel(app), transport, shutdown=stop, on_ready=ready.set, grace_seconds=5)


@asynccontextmanager
async def sessions(args: argparse.Namespace, meter: Any) -> AsyncIterator[list[Any]]:
    """`args.sessions` connected clients, each on its own reply queue."""
    clients: list[Any] = []
    async with AsyncExitStack() as stack:
        for number in range(args.sessions):
            transport = _transport(args, reply_queue=f"{args.reply_prefix}{args.tag}-{number}")
            meter.watch(aws.client("sqs", transport.options.aws))
            clients.append(await stack.enter_async_context(open_client(transport, timeout=120)))
        yield clients
