"""`asyncmcp provision`, `serve`, `connect` and `tail` as real subprocesses against a moto server.

The end-to-end path a new user takes: provision, then bare `serve --transport sqs` and
`connect ... --transport sqs` (the profile fills in the rest), `tail` showing a request and
its response paired, and a teardown that leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from tests.conftest import read_until

CLI = [sys.executable, "-m", "asyncmcp_cli"]

# Each test runs seven or more CLI processes one after another; on a busy CI machine that is minutes.
pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def env(moto: LocalEndpoint, tmp_path: Path) -> dict[str, str]:
    """The environment of a user who exported nothing but the local endpoint."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ASYNCMCP_", "AWS_"))}
    return base | moto.exports() | {"ASYNCMCP_CONFIG_DIR": str(tmp_path / "config"), "COLUMNS": "200", "NO_COLOR": "1"}


def asyncmcp(env: dict[str, str], *args: str, timeout: float = 40) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


class Lines:
    """A subprocess's stdout, one line at a time, each read bounded by a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in process.stdout:  # type: ignore[union-attr]
                self._lines.put(line)
            self._lines.put("")

        threading.Thread(target=pump, daemon=True).start()

    def next(self, within: float = 30) -> str:
        line = self._lines.get(timeout=within)
        assert line, "the process ended before printing another line"
        return line


@pytest.fixture
def prefix() -> str:
    return f"e{uuid.uuid4().hex[:10]}"


def leftovers(moto: LocalEndpoint, prefix: str) -> list[str]:
    sqs, sns = aws.client("sqs", moto.settings), aws.client("sns", moto.settings)
    queues = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"] if f":{prefix}-" in t["TopicArn"]]
    return queues + topics


def test_provision_serve_connect_tail_then_teardown(moto: LocalEndpoint, env: dict[str, str], prefix: str) -> None:
    # a generous max-receive-count: `tail --follow --steal` peeks at the waiting request several times
    provisioned = asyncmcp(env, "provision", "local", "--prefix", prefix, "--max-receive-count", "20", "--json")
    assert provisioned.returncode == 0, provisioned.stderr
    report = json.loads(provisioned.stdout)
    assert {s["action"] for s in report["actions"]} == {"create"}
    assert Path(report["profile_written"]["path"]).is_file()

    # a request waits on the queue: no server yet, and the client does not wait
    sent = asyncmcp(env, "connect", "call", "echo", "text=hello", "--no-wait", "--json", "--transport", "sqs")
    assert sent.returncode == 0, sent.stderr
    receipt = json.loads(sent.stdout)

    tail = start(env, "tail", "--pair", "--follow", "--steal", "--json", "--count", "2", "--timeout", "45")
    server: subprocess.Popen[str] | None = None
    try:
        lines = Lines(tail)
        request = json.loads(lines.next())
        assert (request["kind"], request["method"], request["client_id"]) == (
            "request",
            "tools/call",
            receipt["client_id"],
        )
        assert request["queue"] == f"{prefix}-requests"
        assert request["body"]["params"]["arguments"] == {"text": "hello"}

        server = start(env, "serve", "--transport", "sqs", "--grace-period", "5")
        read_until(server, "serving")
        response = json.loads(lines.next())
        assert (response["kind"], response["queue"], response["id"]) == ("response", f"{prefix}-replies", request["id"])
        assert response["method"] == "tools/call"  # paired with its request by (client id, id)
        assert response["latency_ms"] is not None
        assert response["body"]["result"]["content"][0]["text"] == "hello"
        assert tail.wait(timeout=20) == 0

        # the profile also lets a plain client find everything
        again = asyncmcp(env, "connect", "call", "echo", "text=again", "--transport", "sqs")
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == "again"
    finally:
        stop(tail)
        if server is not None:
            stop(server)

    down = asyncmcp(env, "provision", "local", "--teardown", "--json")
    assert down.returncode == 0, down.stderr
    report = json.loads(down.stdout)
    assert {s["action"] for s in report["actions"]} == {"delete"} and report["profile_removed"]
    assert leftovers(moto, prefix) == []


def test_sns_profile_serves_and_connects_with_bare_flags(moto: LocalEndpoint, env: dict[str, str], prefix: str) -> None:
    provisioned = asyncmcp(env, "provision", "local", "--prefix", prefix, "--transport", "sns+sqs", "--no-raw-delivery")
    assert provisioned.returncode == 0, provisioned.stderr
    server = start(env, "serve", "--transport", "sns+sqs", "--grace-period", "5")
    try:
        read_until(server, "serving")
        called = asyncmcp(env, "connect", "call", "add", "a=2", "b=40", "--transport", "sns+sqs")
        assert called.returncode == 0, called.stderr
        assert called.stdout.strip() == "42.0"
        stranger = asyncmcp(env, "connect", "tools", "--transport", "sns+sqs", "--client-id", "stranger")
        assert stranger.returncode == 3
        assert f"'stranger' does not start with '{prefix}-client-1.'" in stranger.stderr
        assert "Traceback" not in stranger.stderr
    finally:
        stop(server)
    down = asyncmcp(env, "provision", "local", "--teardown")
    assert down.returncode == 0, down.stderr
    assert leftovers(moto, prefix) == []
