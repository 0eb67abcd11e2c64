"""The reference library's side of a load-shape benchmark process (see `worker`).

Runs in the reference library's own virtualenv (PyPI ``asyncmcp`` 0.2.1, on
``mcp`` 1.x), with that library's documented SQS server and client.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
import boto3


def _boto(args: argparse.Namespace) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


async def serve(
    args: argparse.Namespace,
    meter: Any,
    executions: collections.Counter[str],
    ready: anyio.Event,
    stop: anyio.Event,
) -> None:
    import mcp.types as types
    from asyncmcp import SqsServerConfig, SqsSessionManager
    from mcp.server.lowlevel import Server

    app: Server[Any, Any] = Server("bench")

    @app.list_tools()
    async def list_tools() -> list[types.Tool]:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
        return [types.Tool(name="echo", description="Return the text unchanged.", inputSchema=schema)]

    @app.call_tool()
    async def call_tool(name: str, arguments: dict[str, Any]) -> list[types.TextContent]:
        executions[arguments["text"]] += 1
        return [types.TextContent(type="text", text=arguments["text"])]

    sqs = _boto(args)
    meter.watch(sqs)
    url = sqs.get_queue_url(QueueName=args.request_queue)["QueueUrl"]
    manager = SqsSessionManager(app, SqsServerConfig(read_queue_url=url), sqs)
    async with manager.run():
        ready.set()
        await stop.wait()


@asynccontextmanager
async def sessions(args: argparse.Namespace, meter: Any) -> AsyncIterator[list[Any]]:
    """`args.sessions` initialized client sessions, each on its own reply queue."""
    from asyncmcp import SqsClientConfig, sqs_client
    from mcp import ClientSession

    sqs = _boto(args)
    meter.watch(sqs)
    request_url = sqs.get_queue_url(QueueName=args.request_queue)["QueueUrl"]
    sessions: list[Any] = []
    async with AsyncExitStack() as stack:
        for number in range(args.sessions):
            reply_url = sqs.create_queue(QueueName=f"{args.reply_prefix}{args.tag}-{number}")["QueueUrl"]
            config = SqsClientConfig(read_queue_url=request_url, response_queue_url=reply_url)
            read, write = await stack.enter_async_context(sqs_client(config, sqs))
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            sessions.append(session)
        yield sessions
