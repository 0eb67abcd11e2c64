"""``subscriptions/listen`` with ``notifications.taskIds``: a client is told of its own tasks, and of nobody else's.

The real SDK client against the project's server runtime, over SQS (moto) and
the memory transport; the listen request goes out as the Tasks spec words it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.client.extension import ClientExtension, NotificationBinding
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import SUBSCRIPTION_ID_META_KEY
from pydantic import BaseModel, ConfigDict

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.client import TasksExtension, call_result_of, start_tool_task, wait_for_task
from asyncmcp_cli.tasks.store import SqliteTaskStore
from asyncmcp_cli.tasks.subscribing import listening_to_tasks
from asyncmcp_cli.transports.memory import MemoryTransport
from tests.conftest import Queues
from tests.tasks.support import TaskApp, client, raw, runtime, second_server_transport, serving
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


class AnyParams(BaseModel):
    model_config = ConfigDict(extra="allow")


class Heard(ClientExtension):
    """Declares the tasks extension and keeps every ``notifications/tasks`` and listen acknowledgement heard."""

    identifier = wire.TASKS_EXTENSION_ID

    def __init__(self) -> None:
        self.tasks: list[dict[str, Any]] = []
        self.acks: list[dict[str, Any]] = []
        self._changed = anyio.Event()

    def notifications(self) -> list[NotificationBinding[Any]]:
        return [NotificationBinding(method=wire.NOTIFICATION_TASKS, params_type=AnyParams, handler=self._task)]

    async def _task(self, params: AnyParams) -> None:
        self.tasks.append(params.model_dump(by_alias=True))
        self._wake()

    async def message_handler(self, message: Any) -> None:
        if isinstance(message, types.SubscriptionsAcknowledgedNotification):
            self.acks.append(message.params.model_dump(by_alias=True, exclude_none=True))
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def statuses(self, task_id: str) -> list[str]:
        return [task["status"] for task in self.tasks if task["taskId"] == task_id]

    async def until(self, predicate: Any, within: float = 30.0) -> None:
        with anyio.fail_after(within):
            while not predicate():
                await self._changed.wait()


def listener(transport: Any, client_id: str | None = None) -> tuple[Heard, Any]:
    heard = Heard()
    return heard, client(transport, client_id, extensions=[heard], message_handler=heard.message_handler)


@pytest.fixture(params=["sqs", "memory"])
def transport(request: pytest.FixtureRequest) -> Any:
    if request.param == "sqs":
        return sqs_transport(request.getfixturevalue("queues"))
    return MemoryTransport(f"listen-{uuid.uuid4().hex}")


async def test_a_listening_client_is_told_of_its_task_until_it_ends(transport: Any) -> None:
    app = TaskApp()
    heard, opened = listener(transport)
    task_runtime = runtime()
    async with serving(app, transport, task_runtime), opened as c:
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {"tag": "heard"}})
        task_id = created["taskId"]
        async with listening_to_tasks(c, [task_id]) as subscription:
            await heard.until(lambda: heard.statuses(task_id) == ["working"])  # the state now, right after the ack
            app.gate.set()
            with anyio.fail_after(30):
                await subscription.ended.wait()  # every task it watched is over: the server closed the stream
    assert subscription.error is None
    assert task_runtime.events.listeners == 0  # the closed stream stopped listening
    assert heard.acks and heard.acks[0]["notifications"] == {"taskIds": [task_id]}
    assert heard.statuses(task_id) == ["working", "completed"]
    final = heard.tasks[-1]
    assert final["result"]["content"][0]["text"] == "done heard"
    listen_id = heard.acks[0]["_meta"][SUBSCRIPTION_ID_META_KEY]
    assert all(task["_meta"][SUBSCRIPTION_ID_META_KEY] == listen_id for task in heard.tasks)


async def test_input_required_is_told_and_the_answer_resumes_the_task(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    heard, opened = listener(transport)
    async with serving(app, transport, runtime()), opened as c:
        created = await raw(c, "tools/call", {"name": "hello", "arguments": {}})
        task_id = created["taskId"]
        async with listening_to_tasks(c, [task_id]) as subscription:
            await heard.until(lambda: "input_required" in heard.statuses(task_id))
            asked = next(task for task in heard.tasks if task["status"] == "input_required")
            [key] = asked["inputRequests"]
            answer = {"action": "accept", "content": {"name": "Ada"}}
            await raw(c, "tasks/update", {"taskId": task_id, "inputResponses": {key: answer}})
            with anyio.fail_after(30):
                await subscription.ended.wait()
    assert heard.statuses(task_id)[-1] == "completed"
    assert heard.tasks[-1]["result"]["content"][0]["text"] == "Hello, Ada!"


async def test_a_second_client_hears_nothing_of_the_first_clients_task(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    alice_heard, alice_opened = listener(transport, "alice")
    bob_heard, bob_opened = listener(transport, "bob")
    async with serving(app, transport, runtime()), alice_opened as alice, bob_opened as bob:
        alices = (await raw(alice, "tools/call", {"name": "slow", "arguments": {"tag": "a"}}))["taskId"]
        bobs = (await raw(bob, "tools/call", {"name": "slow", "arguments": {"tag": "b"}}))["taskId"]
        async with (
            listening_to_tasks(alice, [alices]) as alice_listens,
            listening_to_tasks(bob, [alices, bobs]) as bob_listens,  # Bob names Alice's task too
        ):
            await bob_heard.until(lambda: bob_heard.statuses(bobs) == ["working"])
            await alice_heard.until(lambda: alice_heard.statuses(alices) == ["working"])
            app.gate.set()
            with anyio.fail_after(30):
                await alice_listens.ended.wait()
                await bob_listens.ended.wait()
    assert alice_heard.statuses(alices) == ["working", "completed"]  # Alice's notifications were sent ...
    assert bob_heard.acks[0]["notifications"] == {"taskIds": [bobs]}  # ... Bob was not even told her task exists
    assert {task["taskId"] for task in bob_heard.tasks} == {bobs}
    assert bob_heard.statuses(bobs) == ["working", "completed"]


async def test_a_change_made_by_another_server_sharing_the_store_is_told(queues: Queues, tmp_path: Path) -> None:
    """Server A runs the task; the listen stream is on server B, which learns of the end from the store."""
    store_path = str(tmp_path / "tasks.db")
    app_a, app_b = TaskApp(), TaskApp()
    transport_a = sqs_transport(queues)
    transport_b = second_server_transport(queues)
    client_id = f"client-{uuid.uuid4().hex}"
    heard, opened_b = listener(transport_b, client_id)
    async with (
        serving(app_a, transport_a, runtime(SqliteTaskStore(store_path))),
        serving(app_b, transport_b, runtime(SqliteTaskStore(store_path), poll_interval_ms=200)),
        client(transport_a, client_id) as to_a,
        opened_b as to_b,
    ):
        task_id = (await raw(to_a, "tools/call", {"name": "slow", "arguments": {"tag": "far"}}))["taskId"]
        async with listening_to_tasks(to_b, [task_id]) as subscription:
            await heard.until(lambda: heard.statuses(task_id) == ["working"])
            app_a.gate.set()
            with anyio.fail_after(30):
                await subscription.ended.wait()
    assert heard.statuses(task_id) == ["working", "completed"]
    assert not app_b.started.is_set()


async def test_a_pushed_end_ends_the_wait_of_the_tasks_client(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    extension = TasksExtension()
    async with (
        serving(app, transport, runtime(poll_interval_ms=60_000)),
        client(transport, extensions=[extension]) as c,
    ):
        created = await start_tool_task(c, "slow", {"tag": "listened"})
        assert isinstance(created, wire.CreateTaskResult)
        seen: list[str] = []

        def seen_then_release(task: wire.GetTaskResult) -> None:
            seen.append(task.status)
            app.gate.set()  # the task ends only after the first poll saw it working

        async with listening_to_tasks(c, [created.task_id]):
            with anyio.fail_after(20):  # far less than the minute between polls the server asks for
                final = await wait_for_task(c, created.task_id, pushed=extension.pushed, on_status=seen_then_release)
    assert call_result_of(final).content[0].text == "done listened"  # type: ignore[union-attr]
    assert seen == [wire.WORKING, wire.COMPLETED]


async def test_listening_for_tasks_without_the_capability_or_with_a_bad_filter_is_refused(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        task_id = (await raw(c, "tools/call", {"name": "slow", "arguments": {}}))["taskId"]
        with pytest.raises(MCPError) as undeclared:
            await raw(c, "subscriptions/listen", {"notifications": {"taskIds": [task_id]}}, tasks=False)
        assert undeclared.value.error.code == wire.MISSING_REQUIRED_CLIENT_CAPABILITY
        assert undeclared.value.error.data == {"requiredCapabilities": {"extensions": {wire.TASKS_EXTENSION_ID: {}}}}
        for bad in ("not-a-list", [1, 2], [f"t{n}" for n in range(101)]):
            with pytest.raises(MCPError) as refused:
                await raw(c, "subscriptions/listen", {"notifications": {"taskIds": bad}})
            assert refused.value.error.code == wire.INVALID_PARAMS, bad


async def test_a_listen_without_task_ids_still_reaches_the_sdks_own_handler(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport, extensions=[TasksExtension()]) as c:
        with anyio.fail_after(30):
            async with c.listen(tools_list_changed=True) as subscription:
                assert subscription.honored.tools_list_changed is True


async def test_one_client_cannot_hold_more_than_its_share_of_listen_streams(queues: Queues) -> None:
    """An open stream holds its queue message in flight; a client opening stream after stream must not stall intake."""
    from contextlib import AsyncExitStack

    from asyncmcp_cli.tasks.listening import MAX_STREAMS_PER_CLIENT

    app = TaskApp()
    transport = sqs_transport(queues)
    greedy_heard, greedy_opened = listener(transport, "greedy")
    other_heard, other_opened = listener(transport, "other")
    async with serving(app, transport, runtime()), greedy_opened as greedy, other_opened as other:
        mine = (await raw(greedy, "tools/call", {"name": "slow", "arguments": {"tag": "g"}}))["taskId"]
        async with AsyncExitStack() as streams:
            for n in range(MAX_STREAMS_PER_CLIENT):
                await streams.enter_async_context(listening_to_tasks(greedy, [mine]))
                await greedy_heard.until(lambda n=n: len(greedy_heard.acks) == n + 1)
            refused = await streams.enter_async_context(listening_to_tasks(greedy, [mine]))
            with anyio.fail_after(30):
                await refused.ended.wait()
            assert refused.error is not None and "per client" in refused.error.error.message
            # another client still gets a stream, and plain calls are still answered
            theirs = (await raw(other, "tools/call", {"name": "slow", "arguments": {"tag": "o"}}))["taskId"]
            async with listening_to_tasks(other, [theirs]):
                await other_heard.until(lambda: other_heard.statuses(theirs) == ["working"])
            app.gate.set()
    assert len(greedy_heard.acks) == MAX_STREAMS_PER_CLIENT
