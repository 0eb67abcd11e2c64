"""`asyncmcp serve -- COMMAND` and `asyncmcp serve --upstream URL` as real subprocesses over SQS (moto)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.connect_support import CLI, cli_env, connect
from tests.cli.processes import serving
from tests.conftest import Queues
from tests.servers import http_demo_server

UPSTREAM = str(Path(__file__).resolve().parents[1] / "upstream" / "stdio_server.py")


def test_an_existing_stdio_server_is_served_over_sqs_unchanged(queues: Queues) -> None:
    with serving(queues, "--", sys.executable, UPSTREAM) as lines:
        tools = connect(queues, "tools", "--json")
        echoed = connect(queues, "call", "echo", "text=through the queue")
        handshake = connect(queues, "call", "echo", "text=old school", "--era", "handshake")
    log = "".join(lines)
    assert "serving test-upstream" in log
    assert "test upstream" in log and "starting" in log  # its stderr, in our log
    assert tools.returncode == 0, tools.stderr
    assert {"echo", "slow", "pid"} <= {tool["name"] for tool in json.loads(tools.stdout)}
    assert echoed.returncode == 0, echoed.stderr
    assert echoed.stdout.strip() == "through the queue"
    assert handshake.stdout.strip() == "old school"


def test_an_existing_http_server_is_served_over_sqs_unchanged(queues: Queues) -> None:
    with http_demo_server() as url, serving(queues, "--upstream", url):
        added = connect(queues, "call", "add", "a=2", "b=3")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "5.0"


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--", "asyncmcp-no-such-server-command"], 3, "no such command"),
        (["tests.testapp:ControlledApp", "--", "true"], 2, "not APP and -- COMMAND"),
        (["--"], 2, "no upstream command"),
        (["--upstream", "ftp://example.com/mcp"], 3, "http://"),
    ],
)
def test_bad_upstreams_are_one_line_with_a_documented_exit_code(
    queues: Queues, args: list[str], code: int, needle: str
) -> None:
    done = subprocess.run([*CLI, "serve", *args], env=cli_env(queues), capture_output=True, text=True, timeout=30)
    assert done.returncode == code, done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr
