"""Task handles and the poll pace: what comes from a terminal or a server is checked, and cannot spin or park."""

from __future__ import annotations

import base64
import json

import pytest

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.handles import BadTaskIdError, TaskHandle
from asyncmcp_cli.tasks.waiting import DEFAULT_POLL_SECONDS, MAX_POLL_SECONDS, MIN_POLL_SECONDS, poll_seconds


def handle_of(data: object) -> str:
    return "amt1." + base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_handle_round_trips_and_a_bare_id_is_a_handle_without_client() -> None:
    handle = TaskHandle("task-1_AZ", "client-7")
    assert TaskHandle.parse(handle.encode()) == handle
    assert TaskHandle.parse("  task-1_AZ\n") == TaskHandle("task-1_AZ")
    assert TaskHandle("task-1_AZ").encode() == "task-1_AZ"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "two words",
        "\x1b[31mred",
        "x" * (wire.MAX_TASK_ID_LENGTH + 1),
        "amt1.!!!not-base64",
        handle_of([1, 2]),
        handle_of({"v": 2, "task_id": "t", "client_id": "c"}),
        handle_of({"v": 1, "task_id": "t"}),
        handle_of({"v": 1, "task_id": "has space", "client_id": "c"}),
        handle_of({"v": 1, "task_id": "t", "client_id": "c\nd"}),
        "amt1." + "A" * 2000,
    ],
)
def test_anything_else_is_refused_with_a_usage_error(text: str) -> None:
    with pytest.raises(BadTaskIdError):
        TaskHandle.parse(text)


def task(poll_interval_ms: int | None) -> wire.Task:
    return wire.Task(
        taskId="t", status="working", createdAt="now", lastUpdatedAt="now", ttlMs=None, pollIntervalMs=poll_interval_ms
    )


def test_the_servers_poll_interval_is_honoured_within_bounds() -> None:
    assert poll_seconds(task(1500)) == 1.5
    assert poll_seconds(task(None)) == DEFAULT_POLL_SECONDS
    assert poll_seconds(task(0)) == MIN_POLL_SECONDS
    assert poll_seconds(task(-5)) == MIN_POLL_SECONDS
    assert poll_seconds(task(10**12)) == MAX_POLL_SECONDS
