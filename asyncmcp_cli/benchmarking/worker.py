"""One process of a load-shape benchmark: an MCP server worker or a client with several sessions.

Run by path (``python worker.py server|client --lib ours|reference ...``), so
that the reference library's virtualenv (which has an older `mcp`) can run it
too: nothing here imports asyncmcp_cli at module level, and the library
adapters (`ours_side`, `reference_side`) are imported from beside this file.
Each serves the ``echo`` tool and opens client sessions; the calls made on
them are this module's (`echo`), so both libraries are measured alike.

It talks to the orchestrator (`shapes`) in JSON lines: it prints
``{"event": "ready"}`` once connected and warmed up, then answers commands on
stdin. A server answers ``mark`` (start counting) and ``report``; a client
answers ``go`` (run the calls, then report). End of stdin ends the process.
Requests are counted per SQS operation with botocore's ``before-call`` event,
CPU with `os.times` (every thread of the process).
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import logging
import os
import sys
import threading
import time
from typing import Any

import anyio
import anyio.to_thread

WARM_UP_CALLS = 2
CALL_TIMEOUT_SECONDS = 60.0


class Meter:
    """SQS requests by operation and CPU seconds since the last `reset`."""

    def __init__(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._cpu = 0.0
        self._watched: set[int] = set()

    def watch(self, boto_client: Any) -> None:
        """Count the requests of `boto_client` (once, however often it is named: clients are shared)."""
        if id(boto_client) not in self._watched:
            self._watched.add(id(boto_client))
            boto_client.meta.events.register("before-call.sqs.*", self._seen)

    def _seen(self, model: Any = None, **_: Any) -> None:
        with self._lock:
            self.requests[getattr(model, "name", "?")] += 1

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
        self._cpu = _cpu_seconds()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self.requests), "cpu_seconds": _cpu_seconds() - self._cpu}


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event} | fields) + "\n")
    sys.stdout.flush()


async def read_command() -> str:
    return (await anyio.to_thread.run_sync(sys.stdin.readline)).strip()


async def run_server(lib: Any, args: argparse.Namespace) -> None:
    meter = Meter()
    executions: collections.Counter[str] = collections.Counter()
    ready = anyio.Event()
    async with anyio.create_task_group() as tg:
        stop = anyio.Event()
        tg.start_soon(lambda: lib.serve(args, meter, executions, ready, stop))
        await ready.wait()
        emit("ready")
        while command := await read_command():
            if command == "mark":
                meter.reset()
                executions.clear()
                emit("marked")
            elif command == "report":
                duplicated = sum(n - 1 for n in executions.values() if n > 1)
                emit("report", **meter.snapshot(), executions=sum(executions.values()), duplicated=duplicated)
        stop.set()


async def echo(session: Any, text: str) -> str:
    """Call the benchmark's ``echo`` tool: either library's client session has the same `call_tool`."""
    result = await session.call_tool("echo", {"text": text})
    return str(result.content[0].text)


async def run_client(lib: Any, args: argparse.Namespace) -> None:
    meter = Meter()
    async with lib.sessions(args, meter) as sessions:
        for session in sessions:
            for _ in range(WARM_UP_CALLS):
                await echo(session, "warm-up")
        emit("ready")
        if await read_command() != "go":
            return
        meter.reset()
        latencies: list[float] = []
        failures: collections.Counter[str] = collections.Counter()
        started = time.perf_counter()

        async def drive(number: int, session: Any) -> None:
            limiter = anyio.Semaphore(args.in_flight)

            async def one(i: int) -> None:
                async with limiter:
                    text = f"{args.tag}-{number}-{i}"
                    began = time.perf_counter()
                    try:
                        with anyio.fail_after(CALL_TIMEOUT_SECONDS):
                            answer = await echo(session, text)
                    except Exception as exc:  # a lost call is a figure here, not a crash
                        failures[type(exc).__name__] += 1
                        return
                    if answer != text:
                        failures["wrong answer"] += 1
                        return
                    latencies.append(time.perf_counter() - began)

            async with anyio.create_task_group() as calls:
                for i in range(args.calls):
                    calls.start_soon(one, i)

        async with anyio.create_task_group() as tg:
            for number, session in enumerate(sessions):
                tg.start_soon(drive, number, session)
        elapsed = time.perf_counter() - started
        if args.hold:
            await anyio.sleep(args.hold)
        emit(
            "report",
            **meter.snapshot(),
            latencies=latencies,
            failures=dict(failures),
            elapsed=elapsed,
        )
        await read_command()  # stay connected until told to go, so no session closes mid-measurement


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("server", "client"))
    parser.add_argument("--lib", choices=("ours", "reference"), required=True)
    parser.add_argument("--endpoint-url", default="", help="empty: AWS itself")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--request-queue", required=True)
    parser.add_argument("--reply-prefix", default="")
    parser.add_argument("--tag", default="c0")
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--in-flight", type=int, default=1)
    parser.add_argument("--calls", type=int, default=0, help="calls per session")
    parser.add_argument("--hold", type=float, default=0.0, help="seconds to stay idle after the calls")
    args = parser.parse_args()
    for name in filter(None, os.environ.get("ASYNCMCP_BENCH_DEBUG", "").split(",")):  # for diagnosis
        logging.basicConfig(format=f"{args.role} %(asctime)s %(name)s %(message)s")
        logging.getLogger(name).setLevel(logging.DEBUG)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    lib = importlib.import_module("ours_side" if args.lib == "ours" else "reference_side")
    anyio.run(run_server if args.role == "server" else run_client, lib, args)


if __name__ == "__main__":
    main()
