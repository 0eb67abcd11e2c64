"""`asyncmcp proxy --stdio` as a host runs it: answered at once, gone when stdin closes, clear when the backend is not.

The backend here is an AWS endpoint that takes connections and never answers
(a listening socket nobody reads), the slowest kind of unreachable.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.connect_support import CLI, cli_env

pytestmark = pytest.mark.timeout(120)

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "host", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


class StdioProxy:
    def __init__(self, endpoint: str, *args: str) -> None:
        env = cli_env() | {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        }
        self.process = subprocess.Popen(
            [*CLI, "proxy", "--stdio", "--transport", "sqs", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self._lines.put(line)
        self._lines.put(b"")

    def send(self, message: dict[str, Any]) -> None:
        self.process.stdin.write(json.dumps(message).encode() + b"\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]

    def receive(self, *, within: float) -> dict[str, Any]:
        line = self._lines.get(timeout=within)
        assert line, "the proxy closed stdout"
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdin.close()  # type: ignore[union-attr]
        self.process.stdout.close()  # type: ignore[union-attr]


def test_initialize_is_answered_before_the_backend_is_reached_and_the_first_call_says_why(
    silent_endpoint: str,
) -> None:
    proxy = StdioProxy(silent_endpoint, "--timeout", "3")
    try:
        proxy.send(INITIALIZE)
        answer = proxy.receive(within=30)
        assert answer["id"] == 1
        assert answer["result"]["protocolVersion"] == "2025-11-25"
        assert "tools" in answer["result"]["capabilities"]
        proxy.send(INITIALIZED)
        proxy.send(CALL)
        refused = proxy.receive(within=60)
        assert refused["id"] == 2
        assert "cannot reach the backend" in refused["error"]["message"]
    finally:
        proxy.close()


def test_the_proxy_exits_when_stdin_closes_even_while_the_backend_hangs(silent_endpoint: str) -> None:
    proxy = StdioProxy(silent_endpoint, "--timeout", "100")
    try:
        proxy.send(INITIALIZE)
        assert proxy.receive(within=30)["id"] == 1
        proxy.send(INITIALIZED)
        proxy.send(CALL)  # its lane is now stuck connecting to the silent endpoint
        proxy.process.stdin.close()  # type: ignore[union-attr]
        assert proxy.process.wait(timeout=10) == 0
    finally:
        proxy.close()
