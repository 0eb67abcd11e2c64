"""Tasks through `asyncmcp proxy`: a front client that declares the extension gets tasks over SQS, one that
does not gets the ordinary blocking call, and FastMCP's own task client works through it too.

`asyncmcp serve` (the demo server, ``--task-tool sleep``) and `asyncmcp proxy` run as processes on moto's SQS;
the front clients speak streamable HTTP to the proxy.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest
from mcp import Client

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.client import TasksExtension, call_result_of, get_task, start_tool_task, wait_for_task
from tests.cli.processes import proxying, serving
from tests.conftest import Queues

pytestmark = pytest.mark.timeout(180)

FASTMCP_CLIENT = Path(__file__).parents[1] / "interop" / "fastmcp_tasks_client.py"


@contextmanager
def task_backend(queues: Queues) -> Iterator[str]:
    """The demo server with `sleep` as a task tool, behind a proxy; yields the proxy's URL."""
    with serving(queues, "--task-tool", "sleep", "--task-poll-interval", "0.2"), proxying(queues) as (url, _):
        yield url


def test_a_front_client_declaring_tasks_gets_a_task_and_one_that_does_not_gets_the_result(queues: Queues) -> None:
    with task_backend(queues) as url:

        async def both() -> tuple[wire.CreateTaskResult, wire.GetTaskResult, wire.GetTaskResult, str]:
            async with Client(url, extensions=[TasksExtension()]) as tasks_client:
                created = await start_tool_task(tasks_client, "sleep", {"seconds": 1})
                assert isinstance(created, wire.CreateTaskResult), created
                first = await get_task(tasks_client, created.task_id)
                with anyio.fail_after(60):
                    final = await wait_for_task(tasks_client, created.task_id)
            async with Client(url) as plain_client:
                plain = await plain_client.call_tool("sleep", {"seconds": 1})
            return created, first, final, plain.content[0].text  # type: ignore[union-attr]

        created, first, final, plain_text = anyio.run(both)
    assert created.status == wire.WORKING and created.poll_interval_ms == 200
    assert first.status in (wire.WORKING, wire.COMPLETED)
    assert final.status == wire.COMPLETED
    assert call_result_of(final).content[0].text == "slept 1s"  # type: ignore[union-attr]
    assert plain_text == "slept 1s"


def test_tasks_started_at_the_same_time_are_each_followed_under_their_own_client_id(queues: Queues) -> None:
    """Concurrent calls go out on different backend lanes (client ids); each task's tasks/get must use its own."""
    with task_backend(queues) as url:

        async def concurrently() -> list[str]:
            async with Client(url, extensions=[TasksExtension()]) as c:
                created: list[wire.CreateTaskResult] = []

                async def start(seconds: float) -> None:
                    outcome = await start_tool_task(c, "sleep", {"seconds": seconds})
                    assert isinstance(outcome, wire.CreateTaskResult), outcome
                    created.append(outcome)

                async def hold_a_lane() -> None:
                    async with Client(url) as plain:
                        await plain.call_tool("sleep", {"seconds": 2})

                async with anyio.create_task_group() as tg:
                    tg.start_soon(hold_a_lane)
                    for seconds in (1, 1, 1):
                        tg.start_soon(start, seconds)
                texts = []
                with anyio.fail_after(60):
                    for task in created:
                        final = await wait_for_task(c, task.task_id)
                        texts.append(call_result_of(final).content[0].text)  # type: ignore[union-attr]
                return texts

        texts = anyio.run(concurrently)
    assert texts == ["slept 1s"] * 3


def test_fastmcp_task_client_through_the_proxy(queues: Queues) -> None:
    if importlib.util.find_spec("fastmcp_tasks") is None:
        pytest.skip("fastmcp-tasks is not installed; pip install -e '.[interop]' (it is in the dev extras)")
    with task_backend(queues) as url:
        done = subprocess.run(
            [sys.executable, str(FASTMCP_CLIENT), url, "sleep", json.dumps({"seconds": 1})],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["created_status"] == "working"
    assert seen["first_status"] in ("working", "completed")
    assert seen["text"] == "slept 1s" and seen["transparent_text"] == "slept 1s"
