"""Ordinary MCP servers as real subprocesses: the demo over stdio and over streamable HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import wait_until_sync

DEMO_STDIO = f"{sys.executable} -m asyncmcp_cli.demo_stdio"
"""`--stdio` command for the demo server (split like a shell would; paths here have no spaces)."""

HTTP_DEMO = (
    "import sys; from asyncmcp_cli.demo import demo; "
    "demo.run('streamable-http', host='127.0.0.1', port=int(sys.argv[1]))"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepting(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def http_demo_server() -> Iterator[str]:
    """The demo server on streamable HTTP at a loopback port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", HTTP_DEMO, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_sync(lambda: _accepting(port) or process.poll() is not None, timeout=20)
        assert process.poll() is None, "the HTTP demo server exited"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)
