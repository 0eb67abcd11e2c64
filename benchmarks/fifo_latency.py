"""tools/call latency over a FIFO queue pair on the local moto endpoint, with and without
the FIFO correction the embedded endpoint applies (`asyncmcp_cli.aws.moto_fifo`).

Default long polls (20 s) on both ends. Prints figures; asserts nothing.

    python benchmarks/fifo_latency.py [--calls 20] [--uncorrected-calls 3]
"""

from __future__ import annotations

import argparse
import logging
import time
import uuid

import anyio

from asyncmcp_cli import aws
from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.aws.local_aws import LocalEndpoint, local_endpoint_process
from asyncmcp_cli.bench import percentiles
from asyncmcp_cli.client import open_client
from asyncmcp_cli.demo import demo
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.sqs import SqsTransport


async def fifo_calls(endpoint: LocalEndpoint, calls: int) -> list[float]:
    """Serve the demo on a fresh FIFO pair and time `calls` sequential echo calls (after one warm-up)."""
    sqs = aws.client("sqs", endpoint.settings)
    prefix = f"asyncmcp-fifo-{uuid.uuid4().hex[:6]}-"
    for role in ("requests", "replies"):
        sqs.create_queue(QueueName=f"{prefix}{role}.fifo", Attributes={"FifoQueue": "true"})
    transport = SqsTransport(
        endpoint_url=endpoint.url,
        region=endpoint.settings.region,
        request_queue=f"{prefix}requests.fifo",
        reply_queue=f"{prefix}replies.fifo",
        allow_reply=(prefix + "*",),
    )
    shutdown, ready = anyio.Event(), anyio.Event()
    samples = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        async with open_client(transport, timeout=120) as client:
            await client.call_tool("echo", {"text": "warm"})
            for i in range(calls):
                started = time.perf_counter()
                await client.call_tool("echo", {"text": str(i)})
                samples.append(time.perf_counter() - started)
        shutdown.set()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--uncorrected-calls", type=int, default=3, help="0 skips moto as it ships (20 s a call)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)
    runs = [("moto as it ships", False, args.uncorrected_calls), ("embedded (corrected)", True, args.calls)]
    for label, corrected, calls in runs:
        if not calls:
            continue
        with local_endpoint_process(corrected=corrected) as endpoint:
            figures = percentiles(anyio.run(fifo_calls, endpoint, calls))
        print(
            f"FIFO tools/call, {label:22} p50 {figures['p50']:8.1f} ms   p95 {figures['p95']:8.1f} ms   ({calls} calls)"
        )


if __name__ == "__main__":
    main()
