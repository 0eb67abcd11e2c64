"""Ctrl-C cancels the running request, and the server hears of it."""

from __future__ import annotations

import os
import signal

import anyio
import anyio.lowlevel
import pytest
from mcp.server.mcpserver import MCPServer

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.cli.connect.interrupt import Interrupted, interruptible
from asyncmcp_cli.client import open_client
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues

pytestmark = pytest.mark.anyio


async def test_ctrl_c_cancels_the_call_and_the_server_stops_it(queues: Queues) -> None:
    server = MCPServer("interrupt-test")
    started, stopped = anyio.Event(), anyio.Event()

    @server.tool()
    async def hang() -> str:
        started.set()
        try:
            await anyio.sleep(60)
        finally:
            stopped.set()  # cancelled by the client's notifications/cancelled
        return "never"

    @server.tool()
    def ping() -> str:
        return "pong"

    transport = SqsTransport(
        endpoint_url=queues.endpoint.url,
        request_queue=queues.request,
        reply_queue=queues.reply,
        allow_reply=(queues.prefix + "*",),
        wait_seconds=1,
    )
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: serve(as_lowlevel(server), transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set)
        )
        await ready.wait()
        async with open_client(transport, timeout=30) as client:

            async def press_ctrl_c() -> None:
                await started.wait()  # by now the call's SIGINT handler is in place
                os.kill(os.getpid(), signal.SIGINT)

            tg.start_soon(press_ctrl_c)
            with pytest.raises(Interrupted):
                await interruptible(lambda: client.call_tool("hang", {}))
            with anyio.fail_after(15):
                await stopped.wait()
            assert (await client.call_tool("ping", {})).content[0].text == "pong"  # the session carries on
        shutdown.set()


async def test_a_finished_call_returns_its_result() -> None:
    async def work() -> int:
        await anyio.lowlevel.checkpoint()
        return 7

    assert await interruptible(work) == 7
