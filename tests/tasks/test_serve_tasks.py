"""`asyncmcp serve` with tasks as a real process: a task outlives its server, and a dead server's task is failed."""

from __future__ import annotations

import signal

import pytest

from asyncmcp_cli.tasks.store import SqliteTaskStore
from tests.cli.connect_support import cli_env
from tests.cli.processes import running
from tests.conftest import Queues
from tests.tasks.support import TaskApp, client, raw, runtime, serving, wait_for_status
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def serve_args(queues: Queues, store: str, *extra: str) -> tuple[str, ...]:
    return (
        "serve",
        "--transport",
        "sqs",
        "--allow-reply",
        queues.prefix + "*",
        "--task-store",
        store,
        "--task-tool",
        "sleep",
        # Short polls and visibility: a request caught by the poll of a server that just died
        # (the queue still hands it to that poll) is back on the queue in seconds.
        "-o",
        "wait_seconds=1",
        "--visibility-timeout",
        "2",
        *extra,
    )


async def test_a_killed_servers_task_is_reported_failed_not_left_working(queues: Queues, tmp_path) -> None:
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    transport = sqs_transport(queues)
    async with client(transport, "patient") as c:
        with running(*serve_args(queues, store, "--task-lease", "1"), env=cli_env(queues)) as (process, _):
            created = await raw(c, "tools/call", {"name": "sleep", "arguments": {"seconds": 600}})
            assert (await raw(c, "tasks/get", {"taskId": created["taskId"]}))["status"] == "working"
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=20)
        # Another server on the same queue and store answers for the dead one's task.
        async with serving(TaskApp(), transport, runtime(SqliteTaskStore(str(tmp_path / "tasks.db")))):
            failed = await wait_for_status(c, created["taskId"], "failed", "completed", within=30)
    assert failed["status"] == "failed"
    assert "lease lapsed" in failed["statusMessage"]
    assert failed["error"]["code"] == -32603


async def test_a_task_finished_before_a_restart_is_fetched_from_the_new_server(queues: Queues, tmp_path) -> None:
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    transport = sqs_transport(queues)
    async with client(transport, "returning") as c:
        with running(*serve_args(queues, store), env=cli_env(queues)) as (process, _):
            created = await raw(c, "tools/call", {"name": "sleep", "arguments": {"seconds": 0.2}})
            await wait_for_status(c, created["taskId"], "completed")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        with running(*serve_args(queues, store), env=cli_env(queues)):
            done = await raw(c, "tasks/get", {"taskId": created["taskId"]})
    assert done["status"] == "completed"
    assert done["result"]["content"][0]["text"] == "slept 0.2s"


async def test_a_server_shutting_down_fails_the_tasks_it_still_runs(queues: Queues, tmp_path) -> None:
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    transport = sqs_transport(queues)
    async with client(transport, "left-behind") as c:
        with running(*serve_args(queues, store, "--grace-period", "1"), env=cli_env(queues)) as (process, _):
            created = await raw(c, "tools/call", {"name": "sleep", "arguments": {"seconds": 600}})
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        task = await SqliteTaskStore(str(tmp_path / "tasks.db")).load(created["taskId"])
    assert task is not None
    assert task[0].status == "failed"
    assert "shut down" in (task[0].status_message or "")
