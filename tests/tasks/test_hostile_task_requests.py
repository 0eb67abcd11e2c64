"""Task requests from callers who should not get anywhere: JSON-RPC errors, and nothing revealed or changed."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.record import new_task_id
from tests.conftest import Queues
from tests.tasks.support import TaskApp, client, raw, runtime, serving
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


async def refused(c, method: str, params: dict, **options) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await raw(c, method, params, **options)
    return caught.value


async def test_another_clients_task_reads_as_unknown_and_cannot_be_cancelled_or_answered(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with (
        serving(app, transport, runtime()),
        client(transport, "owner") as owner,
        client(transport, "thief") as thief,
    ):
        created = await raw(owner, "tools/call", {"name": "slow", "arguments": {"tag": "mine"}})
        task_id = created["taskId"]
        for method, params in (
            ("tasks/get", {"taskId": task_id}),
            ("tasks/cancel", {"taskId": task_id}),
            ("tasks/update", {"taskId": task_id, "inputResponses": {"1.name": {"action": "accept"}}}),
        ):
            error = await refused(thief, method, params)
            assert error.error.code == wire.INVALID_PARAMS
            assert error.error.message == wire.TASK_NOT_FOUND_MESSAGE  # the same words as for a task that never was
        unknown = await refused(thief, "tasks/get", {"taskId": new_task_id()})
        assert unknown.error.message == wire.TASK_NOT_FOUND_MESSAGE
        still = await raw(owner, "tasks/get", {"taskId": task_id})
        assert still["status"] == "working"
        assert not app.cancelled.is_set()


@pytest.mark.parametrize(
    "task_id",
    ["x" * 100_000, "../../etc/passwd", "asyncmcp/tasks/../results/x", "", 42, None, {"$ne": ""}, ["a"], "é" * 10],
    ids=["oversize", "path", "s3-prefix", "empty", "number", "null", "object", "list", "non-ascii"],
)
async def test_odd_task_ids_get_invalid_params(queues: Queues, task_id: object) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        for method in ("tasks/get", "tasks/cancel"):
            error = await refused(c, method, {"taskId": task_id})
            assert error.error.code == wire.INVALID_PARAMS
        error = await refused(c, "tasks/update", {"taskId": task_id, "inputResponses": {}})
        assert error.error.code == wire.INVALID_PARAMS


async def test_task_methods_without_the_capability_get_missing_capability(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "slow", "arguments": {}})
        for method, params in (
            ("tasks/get", {"taskId": created["taskId"]}),
            ("tasks/cancel", {"taskId": created["taskId"]}),
            ("tasks/update", {"taskId": created["taskId"], "inputResponses": {}}),
        ):
            error = await refused(c, method, params, tasks=False)
            assert error.error.code == wire.MISSING_REQUIRED_CLIENT_CAPABILITY
        assert not app.cancelled.is_set()


async def test_removed_task_methods_are_not_found(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        for method in ("tasks/result", "tasks/list"):
            error = await refused(c, method, {"taskId": new_task_id()})
            assert error.error.code == wire.METHOD_NOT_FOUND


async def test_malformed_updates_get_invalid_params(queues: Queues) -> None:
    app = TaskApp()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport) as c:
        created = await raw(c, "tools/call", {"name": "hello", "arguments": {}})
        for params in (
            {"taskId": created["taskId"]},
            {"taskId": created["taskId"], "inputResponses": "yes"},
            {"taskId": created["taskId"], "inputResponses": [1, 2]},
        ):
            error = await refused(c, "tasks/update", params)
            assert error.error.code == wire.INVALID_PARAMS
