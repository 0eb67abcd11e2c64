"""`asyncmcp serve` and `asyncmcp connect` as real subprocesses against a moto server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import Queues, read_until

CLI = [sys.executable, "-m", "asyncmcp_cli"]


def cli_env(queues: Queues) -> dict[str, str]:
    env = os.environ | queues.endpoint.exports()
    env |= {"ASYNCMCP_REQUEST_QUEUE": queues.request, "ASYNCMCP_REPLY_QUEUE": queues.reply, "NO_COLOR": "1"}
    env["COLUMNS"] = "200"
    return env


def connect(queues: Queues, *args: str, timeout: float = 40) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "connect", *args], env=cli_env(queues), capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def server(queues: Queues) -> Iterator[subprocess.Popen[str]]:
    """`asyncmcp serve` (the demo server) in its own process, ready when it says so."""
    process = subprocess.Popen(
        [*CLI, "serve", "--transport", "sqs", "--allow-reply", queues.prefix + "*", "--grace-period", "5"],
        env=cli_env(queues),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    read_until(process, "serving")
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    process.stderr.close()  # type: ignore[union-attr]


def test_list_and_call_over_sqs(queues: Queues, server: subprocess.Popen[str]) -> None:
    tools = connect(queues, "tools", "--json")
    assert tools.returncode == 0, tools.stderr
    assert {t["name"] for t in json.loads(tools.stdout)} >= {"echo", "add", "sleep", "fail"}

    added = connect(queues, "call", "add", "a=2", "b=40")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "42.0"

    echoed = connect(queues, "call", "echo", "--args-json", '{"text": "hi there"}', "--json", "--era", "handshake")
    assert echoed.returncode == 0, echoed.stderr
    assert json.loads(echoed.stdout)["content"][0]["text"] == "hi there"


def test_a_tool_error_exits_1_with_the_message(queues: Queues, server: subprocess.Popen[str]) -> None:
    failed = connect(queues, "call", "fail", "reason=broken on purpose")
    assert failed.returncode == 1
    assert "broken on purpose" in failed.stderr


def test_sigterm_stops_the_server_cleanly(queues: Queues, server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=20) == 0


def test_errors_are_one_line_with_a_documented_exit_code(queues: Queues) -> None:
    unknown = connect(queues, "tools", "--transport", "sqss")
    assert unknown.returncode == 3
    assert "did you mean 'sqs'" in unknown.stderr and "Traceback" not in unknown.stderr

    missing = connect(queues, "tools", "--request-queue", "asyncmcp-does-not-exist")
    assert missing.returncode == 4
    assert "asyncmcp-does-not-exist" in missing.stderr and "Traceback" not in missing.stderr

    bad_pair = connect(queues, "call", "add", "a2")
    assert bad_pair.returncode == 2
    assert "KEY=VALUE" in bad_pair.stderr

    unreachable = subprocess.run(
        [*CLI, "connect", "tools"],
        env=cli_env(queues) | {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unreachable.returncode == 4
    assert "cannot reach" in unreachable.stderr and "Traceback" not in unreachable.stderr


def test_serve_refuses_a_missing_app_in_one_line(queues: Queues) -> None:
    result = subprocess.run(
        [*CLI, "serve", "no_such_module:app"], env=cli_env(queues), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 3
    assert "no_such_module" in result.stderr and "Traceback" not in result.stderr


def test_demo_runs_the_whole_path() -> None:
    result = subprocess.run(
        [*CLI, "demo"], capture_output=True, text=True, timeout=60, env=os.environ | {"NO_COLOR": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert "tools/call add(a=2, b=3) over SQS → 5.0" in result.stdout
