"""Every task store keeps its promises: conditional create and swap, terminal states never overwritten."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import anyio
import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.record import TaskRecord, new_task_id
from asyncmcp_cli.tasks.s3_store import S3TaskStore
from asyncmcp_cli.tasks.store import MemoryTaskStore, SqliteTaskStore, TaskStore, open_task_store, update

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def a_task(**changes: object) -> TaskRecord:
    now = time.time()
    fields = dict(
        task_id=new_task_id(),
        owner="client-1",
        status=wire.WORKING,
        created_at=now,
        updated_at=now,
        ttl_ms=60_000,
        poll_interval_ms=1_000,
    )
    return TaskRecord(**(fields | changes))  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite", "s3"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[TaskStore]:
    if request.param == "memory":
        yield MemoryTaskStore()
    elif request.param == "sqlite":
        yield SqliteTaskStore(str(tmp_path / "tasks.db"))
    else:
        endpoint: local_aws.LocalEndpoint = request.getfixturevalue("moto")
        bucket = f"asyncmcp-tasks-{uuid.uuid4().hex[:12]}"
        aws.client("s3", endpoint.settings).create_bucket(Bucket=bucket)
        yield S3TaskStore(endpoint.settings, bucket, "asyncmcp/tasks/")


async def test_create_load_and_a_second_create_of_the_same_id_loses(store: TaskStore) -> None:
    task = a_task()
    assert await store.create(task)
    assert not await store.create(a_task(task_id=task.task_id, owner="someone-else"))
    loaded = await store.load(task.task_id)
    assert loaded is not None and loaded[0] == task
    assert await store.load(new_task_id()) is None


async def test_a_swap_with_a_stale_token_loses(store: TaskStore) -> None:
    task = a_task()
    await store.create(task)
    loaded = await store.load(task.task_id)
    assert loaded is not None
    _, token = loaded
    assert await store.swap(task.changed(status_message="first"), token)
    assert not await store.swap(task.changed(status_message="second, from a stale read"), token)
    current = await store.load(task.task_id)
    assert current is not None and current[0].status_message == "first"


async def test_concurrent_writers_never_overwrite_a_terminal_state(store: TaskStore) -> None:
    task = a_task()
    await store.create(task)

    def finish(status: str):
        return lambda record: None if record.terminal else record.finished(status, message=status)

    async with anyio.create_task_group() as tg:
        for status in (wire.COMPLETED, wire.CANCELLED, wire.FAILED, wire.COMPLETED, wire.CANCELLED):
            tg.start_soon(update, store, task.task_id, finish(status))
    final = await store.load(task.task_id)
    assert final is not None and final[0].terminal
    assert final[0].version == task.version + 1  # exactly one writer won; the others saw it and stood back


async def test_delete_and_update_of_a_missing_task(store: TaskStore) -> None:
    task = a_task()
    await store.create(task)
    await store.delete(task.task_id)
    assert await store.load(task.task_id) is None
    assert await update(store, task.task_id, lambda r: r.changed(status_message="x")) is None


def test_store_urls() -> None:
    assert isinstance(open_task_store("memory"), MemoryTaskStore)
    for bad in ("sqlite://", "s3:///prefix", "redis://x", "dynamodb://t"):
        with pytest.raises(ConfigurationError):
            open_task_store(bad)
