"""The MCP Inspector's CLI (npm `@modelcontextprotocol/inspector --cli`) through `asyncmcp proxy`, backed by SQS."""

from __future__ import annotations

import json
import subprocess

from tests.cli.connect_support import cli_env
from tests.cli.processes import proxying, serving
from tests.conftest import Queues
from tests.interop.peers import npm_peer


def inspector(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [npm_peer("mcp-inspector"), "--cli", url, "--transport", "http", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=50, env=cli_env())


def test_the_inspector_lists_and_calls_tools_through_the_proxy(queues: Queues) -> None:
    npm_peer("mcp-inspector")  # skip before starting anything if it is not installed
    with serving(queues), proxying(queues) as (url, _):
        listed = inspector(url, "--method", "tools/list")
        called = inspector(url, "--method", "tools/call", "--tool-name", "add", "--tool-arg", "a=2", "b=40")
    assert listed.returncode == 0, listed.stderr
    assert {"echo", "add", "sleep", "fail"} <= {tool["name"] for tool in json.loads(listed.stdout)["tools"]}
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert result["isError"] is False
    assert result["content"][0]["text"] == "42.0"
