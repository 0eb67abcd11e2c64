"""Our Tasks client against a third-party Tasks server: FastMCP with fastmcp-tasks (PyPI), over stdio.

The peer (`fastmcp_tasks_server.py`) runs FastMCP's own task runtime; our
client declares the extension per request, starts calls as tasks and follows
them with tasks/get, tasks/cancel, by id.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.targets import Target, open_target
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.client import (
    TaskCancelledError,
    TasksExtension,
    call_result_of,
    cancel_task,
    get_task,
    start_tool_task,
    wait_for_task,
)
from tests.cli.connect_support import connect

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

PEER = Path(__file__).with_name("fastmcp_tasks_server.py")


def peer_command() -> str:
    """The stdio command of the FastMCP Tasks peer, or skip saying how to install it."""
    if importlib.util.find_spec("fastmcp_tasks") is None:
        pytest.skip("fastmcp-tasks is not installed; pip install -e '.[interop]' (it is in the dev extras)")
    return f"{sys.executable} {PEER}"


def peer() -> Target:
    return Target.for_stdio(peer_command())


async def test_a_slow_tool_becomes_a_task_that_is_followed_by_id_to_its_result() -> None:
    seen: list[wire.GetTaskResult] = []
    async with open_target(peer(), extensions=[TasksExtension()]) as client:
        created = await start_tool_task(client, "slow", {"seconds": 1.0, "text": "hello from a task"})
        assert isinstance(created, wire.CreateTaskResult)
        assert created.status == wire.WORKING
        assert created.poll_interval_ms == 200
        first = await get_task(client, created.task_id)
        assert first.status == wire.WORKING and first.result is None
        with anyio.fail_after(30):
            final = await wait_for_task(client, created.task_id, on_status=seen.append)
    assert final.status == wire.COMPLETED
    assert call_result_of(final).content[0].text == "hello from a task"  # type: ignore[union-attr]
    assert [task.status for task in seen][-1] == wire.COMPLETED
    assert len(seen) >= 2, "a one-second task polled every 200 ms is seen working at least once"


async def test_call_tool_follows_a_task_transparently_and_reports_each_status() -> None:
    seen: list[str] = []
    async with open_target(peer(), extensions=[TasksExtension(on_status=lambda t: seen.append(t.status))]) as client:
        with anyio.fail_after(30):
            result = await client.call_tool("slow", {"seconds": 0.5, "text": "transparent"})
    assert result.content[0].text == "transparent"  # type: ignore[union-attr]
    assert seen[-1] == wire.COMPLETED


async def test_a_tool_error_in_a_task_is_a_completed_task_with_is_error() -> None:
    async with open_target(peer(), extensions=[TasksExtension()]) as client:
        created = await start_tool_task(client, "broken", {"reason": "broken on purpose"})
        assert isinstance(created, wire.CreateTaskResult)
        with anyio.fail_after(30):
            final = await wait_for_task(client, created.task_id)
    assert final.status == wire.COMPLETED
    result = call_result_of(final)
    assert result.is_error
    assert "broken on purpose" in result.content[0].text  # type: ignore[union-attr]


async def test_a_cancelled_task_ends_cancelled() -> None:
    async with open_target(peer(), extensions=[TasksExtension()]) as client:
        created = await start_tool_task(client, "slow", {"seconds": 60})
        assert isinstance(created, wire.CreateTaskResult)
        await cancel_task(client, created.task_id)
        with anyio.fail_after(30):
            final = await wait_for_task(client, created.task_id)
    assert final.status == wire.CANCELLED
    with pytest.raises(TaskCancelledError):
        call_result_of(final)


async def test_an_unknown_task_id_is_invalid_params() -> None:
    async with open_target(peer(), extensions=[TasksExtension()]) as client:
        with pytest.raises(MCPError) as caught:
            await get_task(client, "no-such-task")
    assert caught.value.error.code == wire.INVALID_PARAMS


async def test_a_tool_the_server_does_not_task_is_answered_at_once() -> None:
    async with open_target(peer(), extensions=[TasksExtension()]) as client:
        outcome = await start_tool_task(client, "quick", {"text": "at once"})
    assert not isinstance(outcome, wire.CreateTaskResult)
    assert outcome.content[0].text == "at once"  # type: ignore[union-attr]


async def test_without_the_capability_a_task_only_tool_is_refused_and_others_block() -> None:
    async with open_target(peer()) as client:
        blocking = await client.call_tool("slow", {"seconds": 0.1, "text": "blocking"})
        with pytest.raises(MCPError) as caught:
            await client.call_tool("broken", {})
    assert blocking.content[0].text == "blocking"  # type: ignore[union-attr]
    assert caught.value.error.code == wire.MISSING_REQUIRED_CLIENT_CAPABILITY


def test_connect_call_task_prints_the_task_id_and_status() -> None:
    command = peer_command()
    started = connect(None, "call", "slow", "seconds=0.2", "--task", "--json", "--stdio", command)
    assert started.returncode == 0, started.stderr
    task = json.loads(started.stdout)
    assert task["resultType"] == "task" and task["status"] == "working"
    wire.CreateTaskResult.model_validate(task)

    plain = connect(None, "call", "slow", "seconds=0.2", "text=awaited", "--stdio", command)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == "awaited"
