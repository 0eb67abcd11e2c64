"""`asyncmcp bench --local`: runs end to end and reports every figure it promises."""

from __future__ import annotations

import json
import os
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
    assert report["idle_sessions"] == report["idle_sessions_requested"] == 5
    assert report["shortfalls"] == []
    assert set(report["targets"]) == {"latency_ratio", "requests_per_call_under_load", "idle_requests_per_minute"}


def test_a_figure_it_could_not_reach_is_reported_as_such() -> None:
    """Idle sessions not answered in time: the report says how many of how many, never the smaller number alone."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "asyncmcp_cli", "bench", "--local"),
            *("--calls", "3", "--clients", "1", "--in-flight", "1", "--idle-seconds", "1"),
            *("--idle-sessions", "7", "--idle-wait", "0"),
        ],
        capture_output=True,
        text=True,
        timeout=55,
        env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "not reached: idle sessions: 7 requested, only 0 answered within 0 s" in result.stderr
    assert "memory for 0 idle sessions (of 7 requested)" in result.stdout
    for phase in ("raw boto3 floor", "tools/call latency", "throughput under load", "idle cost"):
        assert phase in result.stderr  # the progress bars, one per phase
    assert "3/3" in result.stderr  # advanced per call inside a phase
