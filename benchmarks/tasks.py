"""Tasks over SQS, on a local moto endpoint: what a poll costs, how soon a caller sees a task end, store traffic.

One process runs moto, a server with a task tool (the project's Tasks runtime
on a sqlite store, wrapped to count its operations) and a client (the
project's Tasks client); both speak over real SQS queues. Prints figures;
asserts nothing.

- SQS requests per ``tasks/get`` poll: every SQS API request made in the
  process (client and server side, long polls included) while one client
  polls a running task, divided by the polls.
- Time from a task finishing (the tool returns) to the caller having its
  result: polling at the server's ``pollIntervalMs``, and with the result
  pushed (``notifications/tasks`` to the caller's reply queue).
- Task store operations per task: create / load / swap / delete, for one
  task from creation to its result being read, and per poll.

    python benchmarks/tasks.py [--tasks 10] [--polls 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from asyncmcp_cli import aws
from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.bench import RequestCounter
from asyncmcp_cli.client import open_client
from asyncmcp_cli.server import serve
from asyncmcp_cli.tasks import task_tool
from asyncmcp_cli.tasks.client import TasksExtension, get_task, start_tool_task, wait_for_task
from asyncmcp_cli.tasks.runtime import TaskRuntime
from asyncmcp_cli.tasks.serving import enable_tasks
from asyncmcp_cli.tasks.store import SqliteTaskStore, TaskStore
from asyncmcp_cli.transports.sqs import SqsTransport


class CountingStore:
    """A `TaskStore` that counts the operations made on it."""

    def __init__(self, inner: TaskStore) -> None:
        self.inner = inner
        self.ops: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in ("create", "load", "swap", "delete"):
            return attribute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.ops[name] += 1
            return await attribute(*args, **kwargs)

        return counted


def task_server(finished: dict[str, float], gate: anyio.Event) -> MCPServer:
    server = MCPServer("tasks-bench")

    @task_tool(server)
    async def job(tag: str, seconds: float) -> str:
        """Work for `seconds`; note when it finished."""
        await anyio.sleep(seconds)
        finished[tag] = time.perf_counter()
        return tag

    @task_tool(server)
    async def held() -> str:
        """Run until the benchmark lets it end."""
        await gate.wait()
        return "released"

    return server


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": statistics.median(ordered) * 1000, "p95": at(0.95) * 1000, "max": ordered[-1] * 1000}


async def run(endpoint: local_aws.LocalEndpoint, args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"asyncmcp-bench-{uuid.uuid4().hex[:8]}-"
    names = (prefix + "requests", prefix + "replies")
    local_aws.create_queues(endpoint.settings, names)
    transport = SqsTransport(
        endpoint_url=endpoint.url, request_queue=names[0], reply_queue=names[1], allow_reply=(prefix + "*",)
    )
    counter = RequestCounter(aws.client("sqs", transport.options.aws))
    finished: dict[str, float] = {}
    gate = anyio.Event()
    server = task_server(finished, gate)
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        store = CountingStore(SqliteTaskStore(str(Path(scratch) / "tasks.db")))
        runtime = TaskRuntime(store, poll_interval_ms=args.poll_ms)  # type: ignore[arg-type]
        enable_tasks(server._lowlevel_server, runtime)
        shutdown, ready = anyio.Event(), anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: serve(
                    server._lowlevel_server, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set
                )
            )
            await ready.wait()
            extension = TasksExtension()
            async with open_client(transport, timeout=30, extensions=[extension]) as client:
                report["poll"] = await _poll_cost(client, counter, store, args.polls)
                gate.set()
                report["lifecycle_store_ops"] = await _one_task_store_ops(client, store)
                for mode in ("polling", "pushed"):
                    report[f"finish_to_seen_ms_{mode}"] = await _finish_to_seen(
                        client, extension, finished, args.tasks, pushed=mode == "pushed"
                    )
            shutdown.set()
    report["poll_interval_ms"] = args.poll_ms
    return report


async def _poll_cost(client: Any, counter: RequestCounter, store: CountingStore, polls: int) -> dict[str, float]:
    created = await start_tool_task(client, "held", {})
    await get_task(client, created.task_id)  # warm
    before_requests, before_ops = counter.count, Counter(store.ops)
    for _ in range(polls):
        await get_task(client, created.task_id)
    ops = store.ops - before_ops
    return {
        "sqs_requests_per_poll": (counter.count - before_requests) / polls,
        "store_ops_per_poll": sum(ops.values()) / polls,
    }


async def _one_task_store_ops(client: Any, store: CountingStore) -> dict[str, int]:
    before = Counter(store.ops)
    created = await start_tool_task(client, "job", {"tag": "one", "seconds": 0.2})
    task = await wait_for_task(client, created.task_id)
    assert task.status == "completed", task
    return dict(store.ops - before)


async def _finish_to_seen(
    client: Any, extension: TasksExtension, finished: dict[str, float], count: int, *, pushed: bool
) -> dict[str, float]:
    samples: list[float] = []
    random.seed(7)
    for i in range(count):
        tag = f"{'push' if pushed else 'poll'}-{i}"
        created = await start_tool_task(client, "job", {"tag": tag, "seconds": random.uniform(0.3, 1.5)}, push=pushed)
        task = await wait_for_task(client, created.task_id, pushed=extension.pushed if pushed else None)
        seen = time.perf_counter()
        assert task.status == "completed", task
        samples.append(seen - finished[tag])
    return percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10, help="tasks per latency figure")
    parser.add_argument("--polls", type=int, default=50, help="tasks/get polls for the per-poll cost")
    parser.add_argument("--poll-ms", type=int, default=1000, help="the server's pollIntervalMs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)
    with local_aws.local_endpoint_process() as endpoint:
        report = anyio.run(run, endpoint, args)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    poll = report["poll"]
    print(f"server pollIntervalMs                 {report['poll_interval_ms']} ms")
    print(f"SQS requests per tasks/get poll       {poll['sqs_requests_per_poll']:.2f} (client and server)")
    print(f"store operations per poll             {poll['store_ops_per_poll']:.2f}")
    for mode in ("polling", "pushed"):
        figures = report[f"finish_to_seen_ms_{mode}"]
        print(
            f"task end -> caller has it, {mode:<8}  p50 {figures['p50']:6.0f} ms   p95 {figures['p95']:6.0f} ms   "
            f"max {figures['max']:6.0f} ms"
        )
    ops = report["lifecycle_store_ops"]
    detail = ", ".join(f"{name} {count}" for name, count in sorted(ops.items()))
    print(f"store operations per task             {sum(ops.values())} ({detail})")


if __name__ == "__main__":
    main()
