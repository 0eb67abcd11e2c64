"""tools/call latency over SQS against the raw boto3 two-hop floor, on one local endpoint.

Starts moto's server in a subprocess (so it does not share this process's GIL),
then measures in one run:

- the raw floor: a boto3 ping-pong (send request → long-poll receive → send reply
  → long-poll receive, with deletes) between two threads, the least any SQS
  request/response can cost here;
- tools/call round trips through asyncmcp (the SDK client and server on both ends);
- SQS API requests per tool call, counted with botocore event hooks;
- throughput with many calls in flight.

Prints figures; asserts nothing. Usage:
    python benchmarks/sqs_latency.py [--calls 200] [--concurrency 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from rich.console import Console
from rich.table import Table

from asyncmcp_cli import aws
from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.client import open_client
from asyncmcp_cli.demo import demo
from asyncmcp_cli.local_aws import create_queues
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.sqs import SqsTransport


@contextmanager
def moto_subprocess() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
    }


class RequestCounter:
    """Counts SQS API requests made through a botocore client."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        self._lock = threading.Lock()
        client.meta.events.register("before-call.sqs.*", self._seen)

    def _seen(self, **_: Any) -> None:
        with self._lock:
            self.count += 1


def raw_floor(settings: aws.AwsSettings, request_url: str, reply_url: str, rounds: int) -> list[float]:
    """Round trips of a bare boto3 ping-pong between two threads, with long polls and deletes."""
    client = aws.client("sqs", settings)
    stop = threading.Event()

    def responder() -> None:
        while not stop.is_set():
            messages = client.receive_message(QueueUrl=request_url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
            for message in messages.get("Messages", []):
                client.send_message(QueueUrl=reply_url, MessageBody=message["Body"])
                client.delete_message(QueueUrl=request_url, ReceiptHandle=message["ReceiptHandle"])

    thread = threading.Thread(target=responder, daemon=True)
    thread.start()
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        client.send_message(QueueUrl=request_url, MessageBody=json.dumps({"ping": i}))
        while True:
            got = client.receive_message(QueueUrl=reply_url, WaitTimeSeconds=20, MaxNumberOfMessages=1)
            if got.get("Messages"):
                client.delete_message(QueueUrl=reply_url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
                break
        samples.append(time.perf_counter() - started)
    stop.set()
    thread.join(timeout=5)
    return samples


async def mcp_calls(settings: aws.AwsSettings, calls: int, concurrency: int) -> dict[str, Any]:
    transport = SqsTransport(
        endpoint_url=settings.endpoint_url,
        request_queue="bench-requests",
        reply_queue="bench-replies",
        allow_reply=("bench-*",),
    )
    counter = RequestCounter(aws.client("sqs", transport.options.aws))
    shutdown, ready = anyio.Event(), anyio.Event()
    result: dict[str, Any] = {}
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        async with open_client(transport, timeout=60) as client:
            for _ in range(5):  # warm up: connections, the SDK's tool-schema cache
                await client.call_tool("echo", {"text": "warm"})
            before = counter.count
            samples = []
            for i in range(calls):
                started = time.perf_counter()
                await client.call_tool("echo", {"text": str(i)})
                samples.append(time.perf_counter() - started)
            result["sequential"] = summary(samples) | {"requests_per_call": (counter.count - before) / calls}

            before = counter.count
            limiter = anyio.Semaphore(concurrency)
            started = time.perf_counter()

            async def one(i: int) -> None:
                async with limiter:
                    await client.call_tool("echo", {"text": f"c{i}"})

            async with anyio.create_task_group() as load:
                for i in range(calls):
                    load.start_soon(one, i)
            elapsed = time.perf_counter() - started
            result["concurrent"] = {
                "calls": calls,
                "in_flight": concurrency,
                "calls_per_second": calls / elapsed,
                "requests_per_call": (counter.count - before) / calls,
            }
        shutdown.set()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)

    with moto_subprocess() as endpoint:
        settings = aws.AwsSettings(endpoint_url=endpoint, region=aws.DEFAULT_REGION)
        urls = create_queues(settings, ("bench-requests", "bench-replies", "floor-requests", "floor-replies"))
        floor = summary(raw_floor(settings, urls["floor-requests"], urls["floor-replies"], args.calls))
        measured = anyio.run(mcp_calls, settings, args.calls, args.concurrency)

    figures = {
        "raw_floor": floor,
        "tools_call": measured["sequential"],
        "ratio_p50": measured["sequential"]["p50_ms"] / floor["p50_ms"],
        "concurrent": measured["concurrent"],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    table = Table(title=f"SQS on a local moto endpoint · {args.calls} calls")
    for column in ("measure", "p50 ms", "p95 ms", "p99 ms", "SQS requests / call"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    table.add_row(
        "raw boto3 two-hop floor", *(f"{floor[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms")), "4 + 2 deletes"
    )
    seq = measured["sequential"]
    table.add_row(
        "asyncmcp tools/call",
        *(f"{seq[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms")),
        f"{seq['requests_per_call']:.2f}",
    )
    console = Console()
    console.print(table)
    conc = measured["concurrent"]
    console.print(f"latency ratio (p50, tools/call ÷ floor): [bold]{figures['ratio_p50']:.2f}x[/]")
    console.print(
        f"throughput: {conc['calls_per_second']:.0f} calls/s with {conc['in_flight']} in flight, "
        f"{conc['requests_per_call']:.2f} SQS requests per call"
    )


if __name__ == "__main__":
    main()
