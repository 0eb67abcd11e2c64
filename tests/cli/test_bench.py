"""`asyncmcp bench --local`: runs end to end and reports every figure it promises."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_reports_its_figures() -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "asyncmcp_cli", "bench", "--local", "--json"),
            *("--calls", "6", "--clients", "2", "--in-flight", "3", "--idle-seconds", "1", "--idle-sessions", "5"),
        ],
        capture_output=True,
        text=True,
        timeout=55,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["floor_ms"]["p50"] > 0 and report["tools_call_ms"]["p50"] > 0
    assert 0 < report["in_memory_call_ms"]["p50"] < report["tools_call_ms"]["p50"]  # no queue hops in memory
    assert report["latency_ratio"] == report["tools_call_ms"]["p50"] / report["floor_ms"]["p50"]
    # A call needs at least a send and a receive on each side: four SQS requests.
    assert 4 <= report["requests_per_call_sequential"] <= 12
    assert report["throughput_calls_per_second"] > 0
    assert report["idle_sessions"] == 5
    assert set(report["targets"]) == {"latency_ratio", "requests_per_call_under_load", "idle_requests_per_minute"}
