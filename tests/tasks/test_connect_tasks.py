"""The newcomer's story, as separate processes over SQS (moto): start a slow tool as a task with one command,
exit, and get the result later with another command, also after the server was restarted.

`asyncmcp serve` runs the demo server with ``--task-tool sleep`` and a sqlite
task store; every `asyncmcp connect` is its own process with its own client id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from asyncmcp_cli.tasks.handles import TaskHandle
from tests.cli.connect_support import cli_env, connect
from tests.cli.processes import running
from tests.conftest import Queues

pytestmark = pytest.mark.timeout(180)


@contextmanager
def task_server(queues: Queues, store: Path, app: str | None = None) -> Iterator[None]:
    """`asyncmcp serve` (`app`, else the demo server with `sleep` as a task tool), tasks kept in `store`."""
    command = (
        "serve",
        *([app] if app else []),
        "--transport",
        "sqs",
        "--allow-reply",
        queues.prefix + "*",
        "--grace-period",
        "2",
        *(() if app else ("--task-tool", "sleep")),
        "--task-store",
        f"sqlite:///{store}",
        "--task-poll-interval",
        "0.2",
    )
    with running(*command, env=cli_env(queues)):
        yield


def start(queues: Queues, *args: str) -> str:
    started = connect(queues, "call", "sleep", *args, "--task", "--json")
    assert started.returncode == 0, started.stderr
    created = json.loads(started.stdout)
    assert created["resultType"] == "task" and created["status"] == "working", created
    assert created["pollIntervalMs"] == 200
    assert created["handle"].startswith("amt1.") and created["clientId"]
    return created["handle"]


def test_a_task_started_by_one_command_is_collected_by_another(queues: Queues, tmp_path: Path) -> None:
    with task_server(queues, tmp_path / "tasks.db"):
        plain = connect(queues, "call", "sleep", "seconds=1", "--task")
        assert plain.returncode == 0, plain.stderr
        handle = plain.stdout.strip()
        assert "task started" in plain.stderr and "connect task wait" in plain.stderr
        task_id = TaskHandle.parse(handle).task_id
        assert f"task id    {task_id}" in plain.stderr

        waited = connect(queues, "task", "wait", handle, merge=True)
        assert waited.returncode == 0, waited.stdout
        assert waited.stdout.rstrip().endswith("slept 1s")
        assert f"task {task_id}: completed" in waited.stdout

        got = connect(queues, "task", "get", handle, "--json")
        assert got.returncode == 0, got.stderr
        task = json.loads(got.stdout)
        assert task["status"] == "completed" and task["result"]["content"][0]["text"] == "slept 1s"


def test_the_result_outlives_the_server_that_ran_the_task(queues: Queues, tmp_path: Path) -> None:
    store = tmp_path / "tasks.db"
    with task_server(queues, store):
        handle = start(queues, "seconds=1")
        finished = connect(queues, "task", "wait", handle, "--json")
        assert finished.returncode == 0, finished.stderr
    # The server is gone; a new one on the same store answers for the task it never ran.
    with task_server(queues, store):
        waited = connect(queues, "task", "wait", handle, "--json")
    assert waited.returncode == 0, waited.stderr
    task = json.loads(waited.stdout)
    assert task["taskId"] == TaskHandle.parse(handle).task_id
    assert task["result"]["content"][0]["text"] == "slept 1s"


def test_a_running_task_is_reported_running_and_can_be_cancelled(queues: Queues, tmp_path: Path) -> None:
    with task_server(queues, tmp_path / "tasks.db"):
        handle = start(queues, "seconds=600")  # long enough that only the cancel can end it, however busy the machine
        got = connect(queues, "task", "get", handle, "--json")
        assert got.returncode == 7, got.stderr  # still running
        assert json.loads(got.stdout)["status"] == "working"

        gave_up = connect(queues, "task", "wait", handle, "--for", "1", "--json")
        assert gave_up.returncode == 7, gave_up.stderr
        assert "still working after 1 s" in gave_up.stderr

        cancelled = connect(queues, "task", "cancel", handle)
        assert cancelled.returncode == 0, cancelled.stderr
        ended = connect(queues, "task", "wait", handle, "--for", "30", "--json")
    assert ended.returncode == 8, ended.stderr
    assert json.loads(ended.stdout)["status"] == "cancelled"


def test_unknown_and_malformed_task_ids_are_one_line_errors(queues: Queues, tmp_path: Path) -> None:
    with task_server(queues, tmp_path / "tasks.db"):
        unknown = connect(queues, "task", "get", "no-such-task")
        foreign = connect(queues, "task", "get", start(queues, "seconds=30"), "--client-id", "someone-else")
        bare = connect(queues, "task", "get", TaskHandle.parse(start(queues, "seconds=30")).task_id)
    assert unknown.returncode == 8, unknown.stderr
    assert "no such task" in unknown.stderr and "Traceback" not in unknown.stderr
    assert foreign.returncode == 2 and "another client id" in foreign.stderr
    assert bare.returncode == 8, bare.stderr  # another client's task reads as unknown

    malformed = connect(queues, "task", "get", "has spaces\x1b[31m")
    assert malformed.returncode == 2
    assert "not a task id" in malformed.stderr and "\x1b" not in malformed.stderr
    forged = connect(queues, "task", "get", "amt1.eyJ2IjoxfQ")  # {"v":1}: no task id
    assert forged.returncode == 2 and "not a task id" in forged.stderr


def test_the_repl_starts_a_task_and_waits_for_it(queues: Queues, tmp_path: Path) -> None:
    from tests.cli.test_connect_repl import PROMPT, leave, spawn_repl

    with task_server(queues, tmp_path / "tasks.db"):
        child = spawn_repl(tmp_path / "history", queues=queues)
        try:
            child.sendline("task start sleep seconds=1")
            child.expect(r"task (\S+): working", timeout=40)
            task_id = child.match.group(1)
            child.expect(r"handle (amt1\.[A-Za-z0-9_-]+)", timeout=10)  # the same word `call --task` prints
            handle = child.match.group(1)
            child.expect(PROMPT)
            assert TaskHandle.parse(handle).task_id == task_id
            child.sendline(f"task wait {handle}")
            child.expect("completed", timeout=40)
            child.expect("slept 1s", timeout=10)
            child.expect(PROMPT)
            child.sendline(f"task get {TaskHandle(task_id, 'someone-else').encode()}")
            child.expect("another client id than this session", timeout=10)
            child.expect(PROMPT)
            child.sendline("task get no-such-task")
            child.expect("error:.*Task not found", timeout=40)
            child.expect(PROMPT)
            assert leave(child) == 0
        finally:
            if child.isalive():
                child.terminate(force=True)
        # Another process comes back to the task by the handle the REPL printed.
        got = connect(queues, "task", "get", handle, "--json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["result"]["content"][0]["text"] == "slept 1s"


def test_task_update_answers_a_task_that_asks_for_input(queues: Queues, tmp_path: Path) -> None:
    with task_server(queues, tmp_path / "tasks.db", app="tests.tasks.input_app:server"):
        started = connect(queues, "call", "hello", "--task")
        assert started.returncode == 0, started.stderr
        handle = started.stdout.strip()

        deadline = time.monotonic() + 60
        while True:  # the tool runs in the background until it asks
            got = connect(queues, "task", "get", handle, "--json")
            task = json.loads(got.stdout)
            if task["status"] != "working" or time.monotonic() > deadline:
                break
        assert got.returncode == 7 and task["status"] == "input_required", got.stdout
        [key] = task["inputRequests"]

        answer = json.dumps({"action": "accept", "content": {"name": "Ada"}})
        updated = connect(queues, "task", "update", handle, f"{key}={answer}")
        assert updated.returncode == 0, updated.stderr
        assert f"answered {key} of task" in updated.stderr

        waited = connect(queues, "task", "wait", handle, "--for", "60")
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.rstrip().endswith("Hello, Ada!")
