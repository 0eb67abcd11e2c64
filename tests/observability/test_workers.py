"""`serve --workers 3` on one moto SQS queue: a worker killed with SIGKILL under load loses no call, and
no call answered before is run again (the workers share a result cache)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import anyio
import pytest

from asyncmcp_cli.client import open_client
from asyncmcp_cli.transports.sqs import SqsTransport
from asyncmcp_cli.workers.supervisor import worker_argv
from tests.conftest import Queues, wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

CLI = [sys.executable, "-m", "asyncmcp_cli"]
APP = "tests.observability.opsapp:server"
WORKERS = 3
CALLS = 150


def executions(log: Path, event: str = "start") -> dict[int, list[tuple[int, float]]]:
    """(pid, time) of every execution of each call that reached `event` ("start" or "done")."""
    runs: dict[int, list[tuple[int, float]]] = defaultdict(list)
    if log.exists():
        for line in log.read_text().splitlines():
            n, pid, at, kind = line.split()
            if kind == event:
                runs[int(n)].append((int(pid), float(at)))
    return runs


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


@pytest.mark.timeout(180)
async def test_three_workers_one_killed_mid_load_every_call_answered_once_none_rerun(
    queues: Queues, tmp_path: Path
) -> None:
    log = tmp_path / "executions.log"
    env = os.environ | queues.endpoint.exports() | {"ASYNCMCP_OPS_LOG": str(log), "NO_COLOR": "1"}
    command = [
        *CLI, "serve", APP, "--workers", str(WORKERS), "--request-queue", queues.request,
        "--allow-reply", queues.prefix + "*", "--visibility-timeout", "4", "--max-in-flight", "40",
        "--grace-period", "5", "-o", "wait_seconds=1",
    ]  # fmt: skip
    supervisor = start(command, env)
    lines: list[str] = []

    def drain() -> None:
        for line in supervisor.stderr:  # type: ignore[union-attr]
            lines.append(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    answered_at: dict[int, float] = {}
    results: defaultdict[int, list[int]] = defaultdict(list)
    try:
        await wait_until(lambda: sum("serving" in line for line in lines) >= WORKERS, within=60)
        pids = [int(pid) for pid in re.findall(r"worker \d+ started \(pid (\d+)\)", "".join(lines))]
        assert len(pids) == WORKERS
        victim = pids[0]
        killed = anyio.Event()
        transport = SqsTransport(
            endpoint_url=queues.endpoint.url, request_queue=queues.request, reply_queue=queues.reply, wait_seconds=1
        )
        async with open_client(transport, timeout=120) as client:

            async def call(n: int) -> None:
                result = await client.call_tool("record", {"n": n, "seconds": 0.2 + (n % 4) * 0.1})
                answered_at.setdefault(n, time.time())
                results[n].append(int(result.content[0].text))

            async def kill_mid_load() -> None:
                # halfway through its share, while calls keep arriving, running and being answered
                await wait_until(
                    lambda: sum(pid == victim for r in executions(log).values() for pid, _ in r) >= CALLS // 6,
                    within=60,
                )
                os.kill(victim, signal.SIGKILL)
                killed.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(kill_mid_load)
                for n in range(CALLS):
                    tg.start_soon(call, n)
                    if n % 5 == 4:
                        await anyio.sleep(0.2)  # a steady stream (25 calls/s) rather than one burst
            assert killed.is_set()
        await wait_until(lambda: "worker 0 (pid" in "".join(lines), within=10)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        code = supervisor.wait(timeout=60)
        reader.join(timeout=10)
        supervisor.stderr.close()  # type: ignore[union-attr]

    runs = executions(log)
    assert {n: values for n, values in results.items()} == {n: [n] for n in range(CALLS)}  # each answered once
    rerun_after_answer = {n: [started for _, started in runs[n] if started > answered_at[n]] for n in range(CALLS)}
    assert any(pid == victim for r in runs.values() for pid, _ in r)  # the victim did take part
    log_text = "".join(lines)
    assert "worker 0 (pid" in log_text and "was killed by SIGKILL" in log_text and "restarting it" in log_text
    assert code == 0
    assert {n: late for n, late in rerun_after_answer.items() if late} == {}
    reruns = sum(len(r) for r in runs.values()) - CALLS
    resent = log_text.count("was already answered")
    print(
        f"\n{WORKERS} workers, one SIGKILLed: {CALLS} calls, {len(results)} answered, {reruns} re-run before being "
        f"answered, {resent} redeliveries answered from the shared result cache"
    )


def test_the_workers_get_the_command_line_without_the_workers_option() -> None:
    assert worker_argv(["serve", "app:x", "--workers", "3", "--metrics", ":9464"]) == [
        "serve",
        "app:x",
        "--metrics",
        ":9464",
    ]
    assert worker_argv(["serve", "--workers=2", "-o", "a=b"]) == ["serve", "-o", "a=b"]
    assert worker_argv(["serve", "--", "tool", "--workers", "4"]) == ["serve", "--", "tool", "--workers", "4"]


def test_each_worker_serves_its_metrics_on_the_next_port() -> None:
    from asyncmcp_cli.observability.health import parse_metrics_address

    assert [parse_metrics_address("0.0.0.0:9464", worker_index=i) for i in range(3)] == [
        ("0.0.0.0", 9464),
        ("0.0.0.0", 9465),
        ("0.0.0.0", 9466),
    ]
    assert parse_metrics_address("127.0.0.1:0", worker_index=2) == ("127.0.0.1", 0)  # each picks a free port
