"""Tasks over SQS against a real moto server and the real SDK client (raw JSON-RPC for the task methods)."""

from __future__ import annotations

import uuid

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.store import SqliteTaskStore
from tests.conftest import Queues
from tests.tasks.support import TaskApp, client, raw, runtime, second_server_transport, serving, wait_for_status
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


async def test_a_task_is_created_at_once_and_completes_in_the_background(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {"tag": "a"}})
        assert created["resultType"] == "task"
        assert created["status"] == "working"
        assert created["ttlMs"] == 3_600_000 and created["pollIntervalMs"] == 1_000
        assert len(created["taskId"]) >= 40  # 256 random bits
        working = await raw(c, "tasks/get", {"taskId": created["taskId"]})
        assert working["status"] == "working" and working["resultType"] == "complete"
        assert "result" not in working
        app.gate.set()
        done = await wait_for_status(c, created["taskId"], "completed")
        assert done["result"]["content"][0]["text"] == "done a"
        assert done["result"]["isError"] is False
        assert app.finished == ["a"]


async def test_a_caller_without_the_capability_gets_the_ordinary_call(queues: Queues) -> None:
    app = TaskApp()
    app.gate.set()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        result = await raw(c, "tools/call", {"name": "slow", "arguments": {"tag": "b"}}, tasks=False)
        assert result["resultType"] == "complete"
        assert result["content"][0]["text"] == "done b"
        plain = await c.call_tool("slow", {"tag": "sdk"})  # the SDK's own call, no tasks capability
        assert plain.content[0].text == "done sdk"


async def test_a_tool_that_requires_tasks_refuses_a_caller_without_the_capability(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        with pytest.raises(MCPError) as refused:
            await raw(c, "tools/call", {"name": "only_as_task", "arguments": {"text": "x"}}, tasks=False)
        assert refused.value.error.code == wire.MISSING_REQUIRED_CLIENT_CAPABILITY
        assert refused.value.error.data == {"requiredCapabilities": {"extensions": {wire.TASKS_EXTENSION_ID: {}}}}
        created = await raw(c, "tools/call", {"name": "only_as_task", "arguments": {"text": "x"}})
        done = await wait_for_status(c, created["taskId"], "completed")
        assert done["result"]["content"][0]["text"] == "task says x"


async def test_a_tool_not_declared_for_tasks_answers_normally_even_to_a_task_caller(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        result = await raw(c, "tools/call", {"name": "plain", "arguments": {"text": "p"}})
        assert result["resultType"] == "complete" and result["content"][0]["text"] == "plain p"


async def test_a_tool_named_by_the_operator_runs_as_a_task_and_is_listed_so(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime(), plain="optional"), client(transport) as c:
        listed = await raw(c, "tools/list", {})
        declared = {
            tool["name"]: (tool.get("_meta") or {}).get(wire.TOOL_TASK_SUPPORT_META_KEY) for tool in listed["tools"]
        }
        assert declared["plain"] == "optional" and declared["only_as_task"] == "required"
        created = await raw(c, "tools/call", {"name": "plain", "arguments": {"text": "p"}})
        assert created["resultType"] == "task"
        done = await wait_for_status(c, created["taskId"], "completed")
        assert done["result"]["content"][0]["text"] == "plain p"


async def test_the_server_advertises_the_extension(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        discovered = await raw(c, "server/discover", {})
        assert wire.TASKS_EXTENSION_ID in discovered["capabilities"]["extensions"]


async def test_a_json_rpc_error_fails_the_task_with_that_error(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "broken", "arguments": {}})
        failed = await wait_for_status(c, created["taskId"], "failed")
        assert failed["error"] == {"code": -32099, "message": "the backend refused"}
        assert "the backend refused" in failed["statusMessage"]
        assert "result" not in failed


async def test_progress_shows_in_the_status_message(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "steps", "arguments": {"count": 3}})
        with anyio.fail_after(20):
            while True:  # the state lives in the store: nothing to wait on but polls
                task = await raw(c, "tasks/get", {"taskId": created["taskId"]})
                if "working through" in task.get("statusMessage", ""):
                    break
                await anyio.sleep(0.05)
        assert task["status"] == "working"
        app.gate.set()
        await wait_for_status(c, created["taskId"], "completed")


async def test_cancel_stops_the_work_and_the_task_stays_cancelled(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {"tag": "c"}})
        await app.started.wait()
        ack = await raw(c, "tasks/cancel", {"taskId": created["taskId"]})
        assert ack["resultType"] == "complete"
        with anyio.fail_after(10):
            await app.cancelled.wait()
        task = await raw(c, "tasks/get", {"taskId": created["taskId"]})
        assert task["status"] == "cancelled"
        again = await raw(c, "tasks/cancel", {"taskId": created["taskId"]})  # cancelling a finished task: acked
        assert again["resultType"] == "complete"
        assert app.finished == []


async def test_a_task_asks_for_input_and_resumes_with_the_answer(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "hello", "arguments": {}})
        waiting = await wait_for_status(c, created["taskId"], "input_required")
        [(key, request)] = waiting["inputRequests"].items()
        assert request["method"] == "elicitation/create"
        assert request["params"]["message"] == "Please enter your name."
        ignored = await raw(c, "tasks/update", {"taskId": created["taskId"], "inputResponses": {"nonsense": {}}})
        assert ignored["resultType"] == "complete"
        assert (await raw(c, "tasks/get", {"taskId": created["taskId"]}))["status"] == "input_required"
        answer = {key: {"action": "accept", "content": {"name": "Luca"}}}
        await raw(c, "tasks/update", {"taskId": created["taskId"], "inputResponses": answer})
        done = await wait_for_status(c, created["taskId"], "completed")
        assert done["result"]["content"][0]["text"] == "Hello, Luca!"


async def test_the_task_expires_after_its_ttl(queues: Queues) -> None:
    app = TaskApp()
    app.gate.set()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime(ttl_ms=1_500)), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {"tag": "t"}})
        assert created["ttlMs"] == 1_500
        await wait_for_status(c, created["taskId"], "completed")
        with anyio.fail_after(20):
            while True:
                try:
                    await raw(c, "tasks/get", {"taskId": created["taskId"]})
                except MCPError as exc:
                    assert exc.error.code == wire.INVALID_PARAMS
                    assert exc.error.message == wire.TASK_EXPIRED_MESSAGE
                    break
                await anyio.sleep(0.1)
        with pytest.raises(MCPError) as gone:  # expired tasks are deleted once seen
            await raw(c, "tasks/get", {"taskId": created["taskId"]})
        assert gone.value.error.message == wire.TASK_NOT_FOUND_MESSAGE


async def test_a_running_task_outliving_its_ttl_is_stopped_and_failed(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    store_runtime = runtime(ttl_ms=1_000, lease_seconds=0.6)
    async with serving(app, transport, store_runtime), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {"tag": "late"}})
        with anyio.fail_after(20):
            await app.cancelled.wait()
        record = await store_runtime.store.load(created["taskId"])
        assert record is not None and record[0].status == "failed"
        assert record[0].status_message == "Task expired before it finished"


async def test_another_server_sharing_the_store_answers_get_and_cancel(queues: Queues, tmp_path) -> None:
    """Server A runs the task; server B, on another queue, answers tasks/get and tasks/cancel for it."""
    store_path = str(tmp_path / "tasks.db")
    app_a, app_b = TaskApp(), TaskApp()
    transport_a = sqs_transport(queues)
    transport_b = second_server_transport(queues)
    client_id = f"client-{uuid.uuid4().hex}"
    async with (
        serving(app_a, transport_a, runtime(SqliteTaskStore(store_path), lease_seconds=0.6)),
        serving(app_b, transport_b, runtime(SqliteTaskStore(store_path), lease_seconds=0.6)),
        client(transport_a, client_id) as to_a,
        client(transport_b, client_id) as to_b,
    ):
        created = await raw(to_a, "tools/call", {"name": "slow", "arguments": {"tag": "shared"}})
        await app_a.started.wait()
        seen_by_b = await raw(to_b, "tasks/get", {"taskId": created["taskId"]})
        assert seen_by_b["status"] == "working"
        await raw(to_b, "tasks/cancel", {"taskId": created["taskId"]})
        with anyio.fail_after(10):
            await app_a.cancelled.wait()  # A noticed at its next lease renewal
        assert (await raw(to_a, "tasks/get", {"taskId": created["taskId"]}))["status"] == "cancelled"
        assert not app_b.started.is_set()
