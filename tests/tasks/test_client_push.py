"""The Tasks client library over SQS against the project's own server runtime: a pushed end saves the poll."""

from __future__ import annotations

import anyio
import pytest

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.client import TasksExtension, call_result_of, start_tool_task, wait_for_task
from tests.conftest import Queues
from tests.tasks.support import TaskApp, client, runtime, serving
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

SLOW_POLLS_MS = 60_000
"""The server asks for a poll a minute: a wait that ends sooner than that was told by a push."""


async def test_a_pushed_end_ends_the_wait_before_the_next_poll(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    extension = TasksExtension()
    seen: list[str] = []
    async with (
        serving(app, transport, runtime(poll_interval_ms=SLOW_POLLS_MS)),
        client(transport, extensions=[extension]) as c,
    ):
        created = await start_tool_task(c, "slow", {"tag": "pushed"}, push=True)
        assert isinstance(created, wire.CreateTaskResult) and created.poll_interval_ms == SLOW_POLLS_MS

        def seen_then_release(task: wire.GetTaskResult) -> None:
            seen.append(task.status)
            app.gate.set()  # the task ends only after the first poll saw it working

        with anyio.fail_after(20):
            final = await wait_for_task(c, created.task_id, pushed=extension.pushed, on_status=seen_then_release)
    assert call_result_of(final).content[0].text == "done pushed"  # type: ignore[union-attr]
    assert seen == [wire.WORKING, wire.COMPLETED]


async def test_without_a_push_request_the_wait_polls(queues: Queues) -> None:
    app = TaskApp()
    app.gate.set()
    transport = sqs_transport(queues)
    extension = TasksExtension()
    async with serving(app, transport, runtime(poll_interval_ms=200)), client(transport, extensions=[extension]) as c:
        created = await start_tool_task(c, "slow", {"tag": "polled"})
        assert isinstance(created, wire.CreateTaskResult)
        with anyio.fail_after(20):
            final = await wait_for_task(c, created.task_id, pushed=extension.pushed)
    assert final.status == wire.COMPLETED
