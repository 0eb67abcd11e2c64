"""Call a server that listens on SQS, from Python, with the SDK's own client.

Start an endpoint and a server first (see the README), then:

    python examples/sqs_client.py

Uses AWS_ENDPOINT_URL / AWS_REGION / credentials from the environment, like boto3.
"""

from __future__ import annotations

import anyio
from mcp import Client

from asyncmcp_cli.transports.sqs import SqsTransport


async def main() -> None:
    transport = SqsTransport(request_queue="asyncmcp-requests", reply_queue="asyncmcp-replies")
    # mode="2026-07-28": the stateless protocol era, no initialize handshake.
    async with Client(transport.connect(), mode="2026-07-28", read_timeout_seconds=60) as client:
        result = await client.call_tool("echo", {"text": "hello over SQS"})
        print(result.content[0].text)


if __name__ == "__main__":
    anyio.run(main)
