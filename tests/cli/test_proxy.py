"""`asyncmcp proxy` as a real subprocess in front of `asyncmcp serve` over SQS (moto's server)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters

from tests.cli.connect_support import CLI, cli_env
from tests.cli.processes import proxying, serving
from tests.conftest import Queues


@pytest.fixture
def server(queues: Queues) -> Iterator[None]:
    with serving(queues):
        yield


def test_an_sdk_client_calls_through_the_proxy_over_sqs(queues: Queues, server: None) -> None:
    with proxying(queues) as (url, _):

        async def use() -> tuple[list[str], str]:
            async with Client(url) as client:
                tools = await client.list_tools()
                added = await client.call_tool("add", {"a": 2, "b": 40})
            return [tool.name for tool in tools.tools], added.content[0].text

        names, added = anyio.run(use)
    assert {"echo", "add"} <= set(names)
    assert added == "42.0"


def test_a_token_from_the_environment_is_required(queues: Queues, server: None) -> None:
    env = cli_env(queues, ASYNCMCP_PROXY_TOKEN="from-env-token")
    with proxying(queues, env=env) as (url, lines):
        params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
        accept = {"Accept": "application/json, text/event-stream"}
        refused = httpx2.post(url, json=initialize, headers=accept, timeout=10)
        allowed = httpx2.post(
            url, json=initialize, headers=accept | {"Authorization": "Bearer from-env-token"}, timeout=30
        )
    assert "bearer token required" in "".join(lines)
    assert refused.status_code == 401
    assert allowed.status_code == 200 and "asyncmcp-demo" in allowed.text


def test_a_desktop_host_starts_the_stdio_proxy_as_its_server(queues: Queues, server: None, tmp_path: Path) -> None:
    # What a host does with {"command": "asyncmcp", "args": ["proxy", "--stdio", ...]}.
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "asyncmcp_cli", "proxy", "--stdio", "--transport", "sqs", "-o", "wait_seconds=2"],
        env=cli_env(queues, XDG_STATE_HOME=str(tmp_path)),
    )

    async def host() -> tuple[str, str | None, str]:
        async with Client(parameters, mode="legacy") as client:
            echoed = await client.call_tool("echo", {"text": "from the host"})
            info = client.server_info
            instructions = client.instructions
        assert info is not None
        return info.name, instructions, echoed.content[0].text

    first_name, first_instructions, echoed = anyio.run(host)
    assert echoed == "from the host"
    # The proxy answers initialize itself, at once: the first time with its own name, then with
    # the backend's identity as it was when the proxy last reached it.
    assert (first_name, first_instructions) == ("asyncmcp-proxy", None)
    name, instructions, _ = anyio.run(host)
    assert name == "asyncmcp-demo"
    assert instructions is not None and "asyncmcp" in instructions


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--stdio", "--listen", "http://127.0.0.1:0/mcp"], 2, "not both"),
        (["--timeout", "0"], 2, "--timeout"),
        (["--listen", "https://127.0.0.1:8443/mcp"], 3, "http://"),
        (["--transport", "sqss"], 3, "did you mean 'sqs'"),
    ],
)
def test_bad_options_are_one_line_with_a_documented_exit_code(
    queues: Queues, args: list[str], code: int, needle: str
) -> None:
    done = subprocess.run([*CLI, "proxy", *args], env=cli_env(queues), capture_output=True, text=True, timeout=30)
    assert done.returncode == code, done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr
