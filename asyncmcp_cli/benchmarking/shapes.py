"""Run load shapes with real processes and collect their figures.

A shape is client processes x sessions per process x calls in flight per
session, against server worker processes on one request queue; every session
has its own reply queue. Each shape gets fresh queues. Figures per shape:
calls/s, latency p50/p95 under load, SQS requests per call by side and
operation, CPU ms per call (every client and server process), calls lost
(failed or timed out) and calls run more than once.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

WORKER = Path(__file__).with_name("worker.py")
START_SECONDS = 120.0
"""How long processes get to connect and warm up, and a shape's calls to finish."""


@dataclass(frozen=True)
class Shape:
    name: str
    processes: int = 1
    sessions: int = 1
    in_flight: int = 1
    workers: int = 1
    calls: int = 500
    """Calls in the whole shape, spread over every session."""
    idle_seconds: float = 0.0
    """For the idle shape: connected, no calls, this long."""

    @property
    def calls_per_session(self) -> int:
        return max(1, self.calls // (self.processes * self.sessions)) if self.calls else 0


def standard_shapes(calls: int = 500, idle_seconds: float = 45.0) -> list[Shape]:
    return [
        Shape("one at a time", calls=min(calls, 200)),
        Shape("1 session x 50", in_flight=50, calls=calls),
        Shape("5 sessions x 10", sessions=5, in_flight=10, calls=calls),
        Shape("4 processes x 40", processes=4, in_flight=40, calls=calls),
        Shape("5 x 10, 2 workers", sessions=5, in_flight=10, workers=2, calls=calls),
        Shape("5 x 10, 4 workers", sessions=5, in_flight=10, workers=4, calls=calls),
        Shape("idle", calls=0, idle_seconds=idle_seconds),
    ]


@dataclass
class ShapeResult:
    shape: Shape
    lib: str
    calls: int = 0
    calls_per_second: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    requests_per_call: float = 0.0
    requests: dict[str, dict[str, int]] = field(default_factory=dict)
    """side ("client" / "server") → SQS operation → requests."""
    cpu_ms_per_call: float = 0.0
    endpoint_cpu_ms_per_call: float = 0.0
    """CPU of the endpoint's process (moto), when known: where a local endpoint is the limit."""
    lost: int = 0
    duplicated: int = 0
    idle_requests_per_minute_per_poller: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Library:
    name: str
    """What the figures are labelled with."""
    python: str
    """The interpreter whose environment has this library (and boto3, anyio)."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment for its processes (PYTHONPATH for another checkout of this project)."""
    adapter: str = "ours"
    """Which side module drives it: ``ours`` (this project, any checkout) or ``reference``."""


def run_shapes(
    endpoint_url: str,
    library: Library,
    shapes: list[Shape],
    *,
    region: str = "us-east-1",
    endpoint_pid: int | None = None,
    log: IO[str] | None = None,
    step: Callable[[str], None] = lambda _: None,
) -> list[ShapeResult]:
    results = []
    for shape in shapes:
        step(f"{library.name}: {shape.name}")
        try:
            results.append(_run_shape(endpoint_url, region, library, shape, log, endpoint_pid))
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            results.append(ShapeResult(shape, library.name, error=str(exc)))
    return results


class _Process:
    def __init__(self, command: list[str], log: IO[str] | None, env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            command,
            env=os.environ | env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log if log is not None else subprocess.DEVNULL,
            text=True,
        )

    def expect(self, event: str) -> dict[str, Any]:
        assert self.popen.stdout is not None
        while True:
            line = self.popen.stdout.readline()
            if not line:
                raise RuntimeError(f"a benchmark process exited (code {self.popen.poll()}) before {event!r}")
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # a library printing to stdout
            if message.get("event") == event:
                return message

    def tell(self, command: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(command + "\n")
        self.popen.stdin.flush()

    def close(self) -> None:
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def _run_shape(
    endpoint_url: str, region: str, library: Library, shape: Shape, log: IO[str] | None, endpoint_pid: int | None
) -> ShapeResult:
    from asyncmcp_cli import aws

    run = f"asyncmcp-bench-{uuid.uuid4().hex[:6]}"
    sqs = aws.client("sqs", aws.AwsSettings(endpoint_url=endpoint_url or None, region=region))
    sqs.create_queue(QueueName=f"{run}-requests")
    base = [
        library.python,
        str(WORKER),
        "--lib",
        library.adapter,
        "--endpoint-url",
        endpoint_url,
        "--region",
        region,
        "--request-queue",
        f"{run}-requests",
        "--reply-prefix",
        f"{run}-r-",
    ]
    servers: list[_Process] = []
    clients: list[_Process] = []
    try:
        servers = [_Process([base[0], base[1], "server", *base[2:]], log, library.env) for _ in range(shape.workers)]
        for server in servers:
            server.expect("ready")
        client_args = [
            "--sessions",
            str(shape.sessions),
            "--in-flight",
            str(shape.in_flight),
            "--calls",
            str(shape.calls_per_session),
            "--hold",
            str(shape.idle_seconds),
        ]
        clients = [
            _Process([base[0], base[1], "client", *base[2:], "--tag", f"p{n}", *client_args], log, library.env)
            for n in range(shape.processes)
        ]
        for client in clients:
            client.expect("ready")
        for server in servers:
            server.tell("mark")
            server.expect("marked")
        started = time.perf_counter()
        endpoint_cpu = process_cpu_seconds(endpoint_pid)
        for client in clients:
            client.tell("go")
        client_reports = [client.expect("report") for client in clients]
        wall = time.perf_counter() - started - shape.idle_seconds
        endpoint_cpu = process_cpu_seconds(endpoint_pid) - endpoint_cpu
        for server in servers:
            server.tell("report")
        server_reports = [server.expect("report") for server in servers]
    finally:
        for process in clients + servers:
            process.close()
        _delete_queues(sqs, run)
    result = _summarise(shape, library.name, client_reports, server_reports, wall)
    if result.calls:
        result.endpoint_cpu_ms_per_call = endpoint_cpu * 1000 / result.calls
    return result


def process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process (from /proc; 0 where that is not available)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summarise(
    shape: Shape, lib: str, clients: list[dict[str, Any]], servers: list[dict[str, Any]], wall: float
) -> ShapeResult:
    result = ShapeResult(shape, lib)
    latencies = sorted(sample for report in clients for sample in report["latencies"])
    sent = shape.calls_per_session * shape.sessions * shape.processes
    result.calls = len(latencies)
    failures: Counter[str] = Counter()
    for report in clients:
        failures.update(report["failures"])
    result.failures = dict(failures)
    result.lost = sent - len(latencies)
    result.duplicated = sum(report["duplicated"] for report in servers)
    for side, reports in (("client", clients), ("server", servers)):
        by_operation: Counter[str] = Counter()
        for report in reports:
            by_operation.update(report["requests"])
        result.requests[side] = dict(sorted(by_operation.items()))
    total_requests = sum(sum(ops.values()) for ops in result.requests.values())
    cpu = sum(report["cpu_seconds"] for report in clients + servers)
    if shape.idle_seconds:
        pollers = shape.workers + shape.processes * shape.sessions
        result.idle_requests_per_minute_per_poller = total_requests / pollers * 60 / shape.idle_seconds
        return result
    if latencies:
        result.p50_ms = latencies[len(latencies) // 2] * 1000
        result.p95_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1000
        result.calls_per_second = len(latencies) / wall
        result.requests_per_call = total_requests / len(latencies)
        result.cpu_ms_per_call = cpu * 1000 / len(latencies)
    return result


def _delete_queues(sqs: Any, prefix: str) -> None:
    for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        with contextlib.suppress(Exception):
            sqs.delete_queue(QueueUrl=url)


def mean_of(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def this_python() -> Library:
    return Library("ours", sys.executable)


def run_standard_shapes(
    endpoint_url: str | None,
    region: str,
    *,
    calls: int,
    idle_seconds: float,
    endpoint_pid: int | None = None,
    step: Callable[[str], None] = lambda _: None,
) -> list[ShapeResult]:
    """This project's figures for every standard shape (what `asyncmcp bench --shapes` prints)."""
    return run_shapes(
        endpoint_url or "",
        this_python(),
        standard_shapes(calls, idle_seconds),
        region=region,
        endpoint_pid=endpoint_pid,
        step=step,
    )
