"""`asyncmcp serve --transport webhook|http+webhook` as a real subprocess, called by the SDK client."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncmcp_cli.client import open_client
from asyncmcp_cli.transports.registry import resolve
from tests.conftest import read_until
from tests.transports.webhook_support import SECRET

CLI = [sys.executable, "-m", "asyncmcp_cli"]


def serve(transport: str, tmp_path: Path, *extra: str) -> Iterator[str]:
    env = os.environ | {"ASYNCMCP_WEBHOOK_SECRET": SECRET, "NO_COLOR": "1", "COLUMNS": "400"}
    flags = ["--port", "0", "--allow-webhook", "http://127.0.0.1:*", "--grace-period", "2"]
    dead_letter = ["-o", f"dead_letter={tmp_path / 'dead.jsonl'}"]
    process = subprocess.Popen(
        [*CLI, "serve", "--transport", transport, *flags, *dead_letter, *extra],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = read_until(process, "Ctrl-C to stop")
        found = re.search(r"url=(http://127\.0\.0\.1:\d+/mcp)", "".join(lines))
        assert found, lines
        yield found.group(1)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()  # type: ignore[union-attr]


@pytest.fixture
def webhook_server(tmp_path: Path) -> Iterator[str]:
    yield from serve("webhook", tmp_path)


@pytest.fixture
def http_webhook_server(tmp_path: Path) -> Iterator[str]:
    yield from serve("http+webhook", tmp_path, "--webhook-tool", "sleep")


@pytest.mark.anyio
async def test_serve_webhook(webhook_server: str) -> None:
    transport = resolve("webhook", server_url=webhook_server, webhook_secret=(SECRET,))
    async with open_client(transport, timeout=20) as client:
        assert (await client.call_tool("add", {"a": 2, "b": 40})).content[0].text == "42.0"


@pytest.mark.anyio
async def test_serve_http_webhook_with_a_webhook_tool(http_webhook_server: str) -> None:
    transport = resolve("http+webhook", server_url=http_webhook_server, webhook_secret=(SECRET,))
    async with open_client(transport, timeout=20) as client:
        tools = {tool.name: tool.meta for tool in (await client.list_tools()).tools}
        assert tools["sleep"] == {"io.asyncmcp/delivery": "webhook"}
        assert (await client.call_tool("sleep", {"seconds": 0.2})).content[0].text == "slept 0.2s"
        assert (await client.call_tool("echo", {"text": "fast"})).content[0].text == "fast"
