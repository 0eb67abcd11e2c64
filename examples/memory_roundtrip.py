"""A server and a client in one process over the `memory` transport: no AWS, no network.

    python examples/memory_roundtrip.py

The same two calls work over SQS by swapping the transport for
`SqsTransport(...)` (see examples/sqs_client.py).
"""

from __future__ import annotations

import anyio

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.client import open_client
from asyncmcp_cli.demo import demo
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.memory import MemoryTransport


async def main() -> None:
    transport = MemoryTransport("example")
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        async with open_client(transport) as client:
            tools = await client.list_tools()
            print("tools:", ", ".join(tool.name for tool in tools.tools))
            result = await client.call_tool("add", {"a": 2, "b": 3})
            print("add(2, 3) =", result.content[0].text)
        shutdown.set()


if __name__ == "__main__":
    anyio.run(main)
