"""What `asyncmcp proxy` adds to a tool call, against a direct SDK client, on the memory transport.

The backend is the demo server on the in-process ``memory`` transport, so the
transport itself costs next to nothing and what remains is the proxy: the
front (streamable HTTP on a loopback uvicorn, or a stdio-like pipe), the SDK
server and dispatcher on each side, and the lane. Measured in one process:

- direct: an SDK client on the memory transport (no proxy), the floor;
- SDK over HTTP, no proxy: the demo on the SDK's own streamable HTTP app, for
  how much of the proxy's cost is plain HTTP;
- through the proxy, HTTP front, stateless era (2026-07-28) and handshake era;
- through the proxy, stdio front (in-process pipe, handshake era);
- throughput with many clients at once, direct and through the HTTP front;
- ``asyncmcp proxy --stdio`` as a host runs it (a process of its own): from
  start to the answer to ``initialize``, and from closing its stdin to its exit.

Prints figures; asserts nothing. Usage:
    python benchmarks/proxy_overhead.py [--calls 300] [--clients 20] [--starts 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from mcp import Client
from mcp.shared.message import SessionMessage
from rich.console import Console
from rich.table import Table

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.client import open_client
from asyncmcp_cli.demo import demo
from asyncmcp_cli.proxy import HttpFrontOptions, http_front, serve_streams
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.transports.webhook.serving import serve_asgi
from asyncmcp_cli.types import TransportStreams

Opener = Callable[[], AbstractAsyncContextManager[Client]]


@asynccontextmanager
async def backend(transport: MemoryTransport) -> AsyncIterator[None]:
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set)
        )
        await ready.wait()
        yield
        shutdown.set()


@asynccontextmanager
async def sdk_http_demo() -> AsyncIterator[str]:
    """The demo on the SDK's own streamable HTTP app (no proxy), for reference."""
    app = demo.streamable_http_app()
    async with demo.session_manager.run(), serve_asgi(app, "127.0.0.1", 0) as bound:
        yield bound.url("/mcp")


@asynccontextmanager
async def stdio_pipe(transport: MemoryTransport) -> AsyncIterator[TransportStreams]:
    """A host's ends of the stdio front, run in process over memory streams."""
    to_proxy, proxy_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    proxy_writes, from_proxy = anyio.create_memory_object_stream[SessionMessage](0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve_streams(transport, proxy_reads, proxy_writes, call_timeout=60))
        yield from_proxy, to_proxy  # type: ignore[misc]
        to_proxy.close()


async def latencies(open_session: Opener, calls: int) -> list[float]:
    """Sequential echo calls on one session, after a warm-up; seconds each."""
    samples: list[float] = []
    async with open_session() as client:
        for _ in range(20):
            await client.call_tool("echo", {"text": "warm-up"})
        for i in range(calls):
            started = time.perf_counter()
            result = await client.call_tool("echo", {"text": f"call {i}"})
            samples.append(time.perf_counter() - started)
            assert result.content[0].text == f"call {i}"
    return samples


async def throughput(open_session: Opener, clients: int, calls: int) -> float:
    """Calls per second with `clients` sessions each making `calls` calls at once."""

    async def one(n: int) -> None:
        async with open_session() as client:
            for i in range(calls):
                result = await client.call_tool("echo", {"text": f"{n}/{i}"})
                assert result.content[0].text == f"{n}/{i}"

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for n in range(clients):
            tg.start_soon(one, n)
    return clients * calls / (time.perf_counter() - started)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


async def measure(calls: int, clients: int) -> dict[str, Any]:
    transport = MemoryTransport(f"bench-{uuid.uuid4().hex}")
    front = HttpFrontOptions(listen="http://127.0.0.1:0/mcp")
    results: dict[str, Any] = {"calls": calls, "clients": clients, "latency": {}, "throughput": {}}
    async with backend(transport), http_front(transport, options=front, call_timeout=60) as url, sdk_http_demo() as sdk:
        rows: dict[str, Opener] = {
            "direct SDK client (memory transport)": lambda: open_client(transport, era="stateless"),
            "SDK client → SDK HTTP server (no proxy)": lambda: Client(sdk, mode="2026-07-28"),
            "through proxy, HTTP front, stateless": lambda: Client(url, mode="2026-07-28"),
            "through proxy, HTTP front, handshake": lambda: Client(url, mode="legacy"),
            "through proxy, stdio front, handshake": lambda: Client(stdio_pipe(transport), mode="legacy"),
        }
        for name, opener in rows.items():
            results["latency"][name] = summary(await latencies(opener, calls))
        per_client = max(1, calls // clients)
        results["throughput"]["direct SDK client (memory transport)"] = await throughput(
            rows["direct SDK client (memory transport)"], clients, per_client
        )
        results["throughput"]["through proxy, HTTP front, stateless"] = await throughput(
            rows["through proxy, HTTP front, stateless"], clients, per_client
        )
    return results


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}


def stdio_process_times(starts: int) -> dict[str, list[float]]:
    """Seconds from starting ``asyncmcp proxy --stdio`` to its initialize answer, and from closing stdin to exit.

    The backend is a memory transport nobody serves: the figures are the
    proxy's own (start-up, the early answer, shutdown), not a transport's.
    """
    command = [
        sys.executable,
        "-m",
        "asyncmcp_cli",
        "proxy",
        "--stdio",
        "--transport",
        f"memory://bench-{uuid.uuid4()}",
    ]
    times: dict[str, list[float]] = {"start_to_initialize_s": [], "stdin_closed_to_exit_s": []}
    request = (json.dumps(INITIALIZE) + "\n").encode()
    initialized = (json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n").encode()
    ping = (json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"}) + "\n").encode()
    for _ in range(starts):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(request)
        process.stdin.flush()
        answer = json.loads(process.stdout.readline())
        times["start_to_initialize_s"].append(time.perf_counter() - started)
        assert answer["id"] == 1 and "result" in answer, answer
        process.stdin.write(initialized + ping)
        process.stdin.flush()
        assert json.loads(process.stdout.readline())["id"] == 2
        process.stdin.close()
        closed = time.perf_counter()
        process.wait(timeout=60)
        times["stdin_closed_to_exit_s"].append(time.perf_counter() - closed)
        process.stdout.close()
    return times


def render(results: dict[str, Any]) -> None:
    console = Console(width=120)
    table = Table(title=f"tools/call echo, {results['calls']} sequential calls per row (memory backend)")
    for column in ("path", "p50 ms", "p95 ms", "mean ms", "p50 overhead ms"):
        table.add_column(column, justify="left" if column == "path" else "right")
    floor = next(iter(results["latency"].values()))["p50_ms"]
    for name, row in results["latency"].items():
        table.add_row(
            name,
            f"{row['p50_ms']:.2f}",
            f"{row['p95_ms']:.2f}",
            f"{row['mean_ms']:.2f}",
            f"{row['p50_ms'] - floor:+.2f}",
        )
    console.print(table)
    for name, rate in results["throughput"].items():
        console.print(f"throughput, {results['clients']} clients at once, {name}: {rate:.0f} calls/s")
    for name, samples in results.get("stdio_process", {}).items():
        figures = ", ".join(f"{value:.2f}" for value in samples)
        console.print(f"proxy --stdio process, {name}: median {statistics.median(samples):.2f} s ({figures})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--starts", type=int, default=5, help="proxy --stdio processes to start and stop")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)
    for noisy in ("uvicorn", "uvicorn.error", "mcp", "asyncmcp_cli", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    results = anyio.run(measure, args.calls, args.clients)
    if args.starts > 0:
        results["stdio_process"] = stdio_process_times(args.starts)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        render(results)


if __name__ == "__main__":
    main()
