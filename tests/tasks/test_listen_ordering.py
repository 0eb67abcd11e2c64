"""A task listen stream's order and beat, with the server runtime and a store but no transport.

The stream's session is a recorder of what would be sent: these tests are about
which notifications a stream decides to send, and when, under interleavings a
transport cannot arrange on purpose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.listening import TaskListening
from asyncmcp_cli.tasks.record import TaskRecord, new_task_id
from asyncmcp_cli.tasks.runtime import TaskRuntime
from asyncmcp_cli.tasks.store import MemoryTaskStore

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@dataclass
class Recorded:
    """Stands in for the request's `ServerSession`: keeps the status of every ``notifications/tasks`` sent."""

    statuses: list[tuple[str, str]] = field(default_factory=list)
    sent: anyio.Event = field(default_factory=anyio.Event)

    async def send_notification(self, notification: Any, related_request_id: Any = None) -> None:
        if getattr(notification, "method", None) == wire.NOTIFICATION_TASKS:
            self.statuses.append((notification.params["taskId"], notification.params["status"]))
            self.sent.set()
            self.sent = anyio.Event()


@dataclass
class Ctx:
    session: Recorded
    request_id: int = 7


def working(owner: str = "alice") -> TaskRecord:
    now = time.time()
    return TaskRecord(
        task_id=new_task_id(),
        owner=owner,
        status=wire.WORKING,
        created_at=now,
        updated_at=now,
        ttl_ms=60_000,
        poll_interval_ms=1_000,
        tool="slow",
        request={},
        worker="elsewhere",
        lease_expires=now + 300,
    )


async def test_an_older_write_heard_late_is_never_told_after_a_newer_one() -> None:
    older = working()
    newer = older.changed(status=wire.INPUT_REQUIRED, input_round=1, input_requests={"k": {"method": "x"}})

    class LateEcho(MemoryTaskStore):
        async def load(self, task_id: str) -> Any:
            task_runtime.events.publish(older)  # an earlier write's event lands while the stream reads the newer one
            return await super().load(task_id)

    store = LateEcho()
    await store.create(newer)
    task_runtime = TaskRuntime(store)
    session = Recorded()
    async with anyio.create_task_group() as tg:
        tg.start_soon(TaskListening(task_runtime).serve, Ctx(session), [newer.task_id], "alice")
        with anyio.fail_after(10):
            while not session.statuses:
                await session.sent.wait()
        for _ in range(20):  # let the stream act on the late event, if it would (the old code told it here)
            await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()
    assert session.statuses == [(newer.task_id, wire.INPUT_REQUIRED)]


async def test_a_chatty_task_does_not_stop_the_stream_reading_the_store_for_the_others() -> None:
    """Task A's progress wakes the stream all the time; task B is finished by another process sharing the store."""
    store = MemoryTaskStore()
    chatty, quiet = working(), working()
    await store.create(chatty)
    await store.create(quiet)
    here = TaskRuntime(store, poll_interval_ms=500)  # the stream reads the store again every 0.5 s
    session = Recorded()

    async def progress_notes() -> None:
        note = chatty
        while True:
            note = note.changed()  # a new version, the same status: nothing to tell, but it wakes the stream
            here.events.publish(note)
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as tg:
        tg.start_soon(TaskListening(here).serve, Ctx(session), [chatty.task_id, quiet.task_id], "alice")
        tg.start_soon(progress_notes)
        with anyio.fail_after(10):
            while len(session.statuses) < 2:  # the state of each now
                await session.sent.wait()
        loaded = await store.load(quiet.task_id)
        assert loaded is not None
        record, token = loaded
        assert await store.swap(record.changed(status=wire.COMPLETED, result={"content": []}), token)
        with anyio.fail_after(10):  # far more than the 0.5 s beat
            while (quiet.task_id, wire.COMPLETED) not in session.statuses:
                await session.sent.wait()
        tg.cancel_scope.cancel()
    assert session.statuses[-1] == (quiet.task_id, wire.COMPLETED)
