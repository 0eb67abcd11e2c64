"""`@modelcontextprotocol/server-everything` (npm, stdio mode) served over SQS by `asyncmcp serve -- ...`."""

from __future__ import annotations

import json

import pytest

from tests.cli.connect_support import connect
from tests.cli.processes import serving
from tests.conftest import Queues
from tests.interop.peers import npm_peer


def test_connect_lists_its_tools_and_calls_echo_and_get_sum_over_sqs(queues: Queues) -> None:
    everything = npm_peer("mcp-server-everything")
    with serving(queues, "--", everything, "stdio") as lines:
        tools = connect(queues, "tools", "--json")
        echoed = connect(queues, "call", "echo", "message=hello from a queue")
        summed = connect(queues, "call", "get-sum", "a=2", "b=3")
        handshake = connect(queues, "call", "get-sum", "a=40", "b=2", "--era", "handshake")
    assert "serving mcp-servers/everything" in "".join(lines)
    assert tools.returncode == 0, tools.stderr
    assert {"echo", "get-sum"} <= {tool["name"] for tool in json.loads(tools.stdout)}
    assert echoed.returncode == 0, echoed.stderr
    assert "hello from a queue" in echoed.stdout
    assert summed.returncode == 0, summed.stderr
    assert "5" in summed.stdout
    assert "42" in handshake.stdout


@pytest.mark.parametrize(("mode", "offered"), [("per-client", False), ("shared", True)])
def test_a_client_without_sampling_is_offered_the_sampling_tool_only_when_sessions_are_shared(
    queues: Queues, mode: str, offered: bool
) -> None:
    everything = npm_peer("mcp-server-everything")
    with serving(queues, "--upstream-sessions", mode, "--", everything, "stdio"):
        tools = connect(queues, "tools", "--json")
        called = connect(queues, "call", "trigger-sampling-request", "prompt=hi")
    assert tools.returncode == 0, tools.stderr
    names = {tool["name"] for tool in json.loads(tools.stdout)}
    assert {"echo", "get-sum"} <= names
    assert ("trigger-sampling-request" in names) is offered
    assert called.returncode != 0
