"""Measure a queue transport where the user points it: latency, throughput, API requests, idle cost.

`asyncmcp bench` runs this against the configured endpoint (real SQS, LocalStack,
or the embedded moto server with `--local`), on temporary queues it creates and
deletes. In one run it measures:

- the raw boto3 two-hop floor: send → long-poll receive → send → long-poll
  receive between two threads, the least any SQS request/response costs there;
- tools/call latency through asyncmcp (SDK client and server on both ends),
  and over the in-memory transport: what the SDK itself costs per call, so the
  gap to the floor can be split into the SDK's share and the queue path's;
- throughput with many calls in flight from several clients, and SQS API
  requests per call (counted with botocore event hooks);
- idle API requests per minute per long-poll loop;
- server memory for many idle client sessions.

It prints figures; nothing here asserts a speed. A figure asked for but not
reached (idle sessions the server did not answer in time) is reported as such
in `BenchReport.shortfalls`, never silently replaced by the smaller number.

The default settings finish in about a minute on the embedded endpoint;
`LONG` is the fuller run (``asyncmcp bench --long``). Progress is reported
per phase and, inside a phase, per call (`BenchProgress`).
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from asyncmcp_cli import aws
from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.client import open_client
from asyncmcp_cli.demo import demo
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.transports.sqs import SqsTransport

WARM_UP_CALLS = 5
"""Calls made before timing starts: connections, and the SDK's cache of tool schemas."""

TARGETS = {"latency_ratio": 1.15, "requests_per_call_under_load": 2.0, "idle_requests_per_minute": 6.0}


@dataclass
class BenchSettings:
    calls: int = 50
    clients: int = 4
    in_flight: int = 20
    idle_seconds: float = 10.0
    idle_sessions: int = 200
    idle_sessions_wait: float = 120.0
    """Seconds to wait for the idle sessions' answers; the ones still missing then are reported as a shortfall."""


LONG = BenchSettings(calls=200, clients=4, in_flight=40, idle_seconds=30.0, idle_sessions=1000)
"""The fuller run: more calls per figure, a longer idle watch, more idle sessions (several minutes)."""


class BenchProgress(Protocol):
    """Where a run reports what it is doing: a phase (with its number of steps, if known), then each step."""

    def phase(self, description: str, total: int | None = None) -> None: ...

    def advance(self, steps: int = 1) -> None:
        """One or more steps of the current phase done (may be called from a worker thread)."""


class _Silent:
    def phase(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


@dataclass
class BenchReport:
    floor_ms: dict[str, float] = field(default_factory=dict)
    tools_call_ms: dict[str, float] = field(default_factory=dict)
    in_memory_call_ms: dict[str, float] = field(default_factory=dict)
    latency_ratio: float = 0.0
    requests_per_call_sequential: float = 0.0
    throughput_calls_per_second: float = 0.0
    requests_per_call_under_load: float = 0.0
    idle_requests_per_minute: float = 0.0
    idle_sessions: int = 0
    """Idle sessions the server answered (and that the memory figure is for)."""
    idle_sessions_requested: int = 0
    memory_per_idle_session_kib: float = 0.0
    memory_for_idle_sessions_mib: float = 0.0
    shortfalls: list[str] = field(default_factory=list)
    """Figures asked for but not reached, one sentence each."""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"targets": TARGETS}


class RequestCounter:
    """Counts SQS API requests made through a botocore client."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        self._lock = threading.Lock()
        client.meta.events.register("before-call.sqs.*", self._seen)

    def _seen(self, **_: Any) -> None:
        with self._lock:
            self.count += 1


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(s * 1000 for s in samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "mean": statistics.fmean(ordered)}


async def run_bench(
    settings: aws.AwsSettings, options: BenchSettings, progress: BenchProgress | None = None
) -> BenchReport:
    progress = progress or _Silent()
    sqs = aws.client("sqs", settings)
    prefix = f"asyncmcp-bench-{uuid.uuid4().hex[:8]}-"
    names = {role: prefix + role for role in ("requests", "replies", "floor-requests", "floor-replies")}
    urls = {role: sqs.create_queue(QueueName=name)["QueueUrl"] for role, name in names.items()}
    report = BenchReport()
    try:
        progress.phase("raw boto3 floor", options.calls)
        floor = await anyio.to_thread.run_sync(
            _raw_floor, sqs, urls["floor-requests"], urls["floor-replies"], options.calls, progress.advance
        )
        report.floor_ms = percentiles(floor)
        transport = SqsTransport(
            endpoint_url=settings.endpoint_url,
            region=settings.region,
            request_queue=names["requests"],
            reply_queue=names["replies"],
            allow_reply=(prefix + "*",),
            max_in_flight=max(64, options.in_flight * options.clients),
        )
        counter = RequestCounter(aws.client("sqs", transport.options.aws))
        await _through_asyncmcp(transport, counter, options, report, progress)
        progress.phase("tools/call over the in-memory transport", options.calls)
        memory_calls = await _sequential_calls(MemoryTransport(prefix), options.calls, progress.advance)
        report.in_memory_call_ms = percentiles(memory_calls)
    finally:
        for url in urls.values():
            sqs.delete_queue(QueueUrl=url)
    report.latency_ratio = report.tools_call_ms["p50"] / report.floor_ms["p50"]
    return report


def _raw_floor(
    sqs: Any, request_url: str, reply_url: str, rounds: int, advance: Callable[[int], object]
) -> list[float]:
    stop = threading.Event()

    def responder() -> None:
        while not stop.is_set():
            got = sqs.receive_message(QueueUrl=request_url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
            for message in got.get("Messages", []):
                sqs.send_message(QueueUrl=reply_url, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=request_url, ReceiptHandle=message["ReceiptHandle"])

    thread = threading.Thread(target=responder, daemon=True)
    thread.start()
    samples = []
    try:
        for i in range(rounds):
            started = time.perf_counter()
            sqs.send_message(QueueUrl=request_url, MessageBody=json.dumps({"ping": i}))
            while True:
                got = sqs.receive_message(QueueUrl=reply_url, WaitTimeSeconds=20, MaxNumberOfMessages=1)
                if got.get("Messages"):
                    samples.append(time.perf_counter() - started)  # the delete is not part of the round trip
                    sqs.delete_message(QueueUrl=reply_url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
                    advance(1)
                    break
    finally:
        stop.set()
        thread.join(timeout=5)
    return samples


async def _through_asyncmcp(
    transport: SqsTransport,
    counter: RequestCounter,
    options: BenchSettings,
    report: BenchReport,
    progress: BenchProgress,
) -> None:
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        progress.phase("tools/call latency", options.calls)
        warmed: list[int] = []
        samples = await _calls_on(
            transport, options.calls, progress.advance, warmed_up=lambda: warmed.append(counter.count)
        )
        report.tools_call_ms = percentiles(samples)
        report.requests_per_call_sequential = (counter.count - warmed[0]) / options.calls

        per_client = max(1, options.calls // options.clients)
        progress.phase("throughput under load", per_client * options.clients)
        await _load(transport, counter, options, report, progress.advance)
        progress.phase("idle cost", math.ceil(options.idle_seconds))
        before = counter.count
        await _watch_idle(options.idle_seconds, progress.advance)
        pollers = 1  # the server's request-queue poller; no client is connected now
        report.idle_requests_per_minute = (counter.count - before) / pollers * 60 / options.idle_seconds
        progress.phase(f"memory for {options.idle_sessions} idle sessions", options.idle_sessions)
        await _idle_sessions(transport, options, report, progress.advance)
        shutdown.set()


async def _watch_idle(seconds: float, advance: Callable[[int], object]) -> None:
    """Sleep `seconds`, a step a second (so the progress bar moves while nothing else does)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await anyio.sleep(min(1.0, left))
        advance(1)


async def _sequential_calls(transport: Transport, calls: int, advance: Callable[[int], object]) -> list[float]:
    """Serve the demo on `transport` and time `calls` echo calls made one after another."""
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        samples = await _calls_on(transport, calls, advance)
        shutdown.set()
    return samples


async def _calls_on(
    transport: Transport,
    calls: int,
    advance: Callable[[int], object],
    warmed_up: Callable[[], object] = lambda: None,
) -> list[float]:
    """Time `calls` sequential echo calls from one client, after a short warm-up."""
    async with open_client(transport, timeout=120) as client:
        for _ in range(WARM_UP_CALLS):
            await client.call_tool("echo", {"text": "warm"})
        warmed_up()
        samples = []
        for i in range(calls):
            started = time.perf_counter()
            await client.call_tool("echo", {"text": str(i)})
            samples.append(time.perf_counter() - started)
            advance(1)
    return samples


async def _load(
    transport: SqsTransport,
    counter: RequestCounter,
    options: BenchSettings,
    report: BenchReport,
    advance: Callable[[int], object],
) -> None:
    async with AsyncExitStack() as stack:
        clients = []
        for n in range(options.clients):  # each client on its own reply queue, as recommended
            own = SqsTransport(transport.options, reply_queue=f"{transport.options.request_queue}-client{n}")
            stack.callback(_delete_queue, own)
            clients.append(await stack.enter_async_context(open_client(own, timeout=120)))
        for client in clients:
            await client.call_tool("echo", {"text": "warm"})
        per_client = max(1, options.calls // options.clients)
        before = counter.count
        started = time.perf_counter()

        async def drive(client: Any) -> None:
            limiter = anyio.Semaphore(options.in_flight)

            async def one(i: int) -> None:
                async with limiter:
                    await client.call_tool("echo", {"text": str(i)})
                advance(1)

            async with anyio.create_task_group() as calls:
                for i in range(per_client):
                    calls.start_soon(one, i)

        async with anyio.create_task_group() as tg:
            for client in clients:
                tg.start_soon(drive, client)
        elapsed = time.perf_counter() - started
        total = per_client * len(clients)
        report.throughput_calls_per_second = total / elapsed
        report.requests_per_call_under_load = (counter.count - before) / total


def _delete_queue(transport: SqsTransport) -> None:
    sqs = aws.client("sqs", transport.options.aws)
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=transport.options.reply_queue)["QueueUrl"])


async def _idle_sessions(
    transport: SqsTransport, options: BenchSettings, report: BenchReport, advance: Callable[[int], object]
) -> None:
    """Open `count` client sessions on the server (one request each), then weigh the server process.

    Answers still missing after `BenchSettings.idle_sessions_wait` are a shortfall:
    the memory figure is then for the sessions that were answered, and says so.
    """
    count = options.idle_sessions
    queues_client = aws.client("sqs", transport.options.aws)
    request_url = queues_client.get_queue_url(QueueName=transport.options.request_queue)["QueueUrl"]
    reply_url = queues_client.get_queue_url(QueueName=transport.options.reply_queue)["QueueUrl"]
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "ping",
            "params": {
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                }
            },
        }
    )
    before = _rss_kib()
    for start in range(0, count, 10):
        entries = [
            {
                "Id": str(i),
                "MessageBody": body,
                "MessageAttributes": {
                    codec.CLIENT_ID: {"DataType": "String", "StringValue": f"idle-{start + i}"},
                    codec.REPLY_TO: {"DataType": "String", "StringValue": reply_url},
                },
            }
            for i in range(min(10, count - start))
        ]
        await aws.call(queues_client.send_message_batch, QueueUrl=request_url, Entries=entries)
    answered = 0
    with anyio.move_on_after(options.idle_sessions_wait):
        while answered < count:
            got = await aws.call(
                queues_client.receive_message, QueueUrl=reply_url, MaxNumberOfMessages=10, WaitTimeSeconds=5
            )
            messages = got.get("Messages", [])
            answered += len(messages)
            advance(len(messages))
            if messages:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                await aws.call(queues_client.delete_message_batch, QueueUrl=reply_url, Entries=entries)
    grown = max(0, _rss_kib() - before)
    report.idle_sessions = answered
    report.idle_sessions_requested = count
    if answered < count:
        report.shortfalls.append(
            f"idle sessions: {count} requested, only {answered} answered within {options.idle_sessions_wait:g} s; "
            f"the memory figure is for {answered}"
        )
    report.memory_for_idle_sessions_mib = grown / 1024
    report.memory_per_idle_session_kib = grown / max(1, answered)


def _rss_kib() -> int:
    """Resident memory of this process in KiB (current where /proc exists, else the peak)."""
    try:
        with open(f"/proc/{os.getpid()}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
