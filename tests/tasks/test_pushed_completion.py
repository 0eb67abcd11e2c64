"""Beyond the spec: a caller that asks is sent ``notifications/tasks`` at its own reply address when the task ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.extension import ClientExtension, NotificationBinding
from pydantic import BaseModel, ConfigDict

from asyncmcp_cli.tasks import wire
from tests.conftest import Queues
from tests.tasks.support import TaskApp, client, raw, runtime, serving, wait_for_status
from tests.transports.test_sqs import sqs_transport
from tests.transports.test_webhook import webhook_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


class AnyParams(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaskNotifications(ClientExtension):
    """Collects ``notifications/tasks`` the server pushes (a client-side observer for the test)."""

    identifier = wire.TASKS_EXTENSION_ID

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.arrived = anyio.Event()

    def notifications(self) -> list[NotificationBinding[Any]]:
        return [NotificationBinding(method=wire.NOTIFICATION_TASKS, params_type=AnyParams, handler=self._got)]

    async def _got(self, params: AnyParams) -> None:
        self.received.append(params.model_dump())
        self.arrived.set()


@pytest.fixture(params=["sqs", "webhook"])
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqs":
        return sqs_transport(request.getfixturevalue("queues"))
    return webhook_transport(tmp_path)


async def test_the_terminal_state_is_pushed_to_a_caller_that_asked(transport: Any) -> None:
    app = TaskApp()
    observer = TaskNotifications()
    async with serving(app, transport, runtime()), client(transport, extensions=[observer]) as c:
        created = await raw(
            c, "tools/call", {"name": "slow", "arguments": {"tag": "push"}}, **{wire.TASK_NOTIFY_META_KEY: True}
        )
        app.gate.set()
        with anyio.fail_after(30):
            await observer.arrived.wait()
    [pushed] = observer.received
    assert pushed["taskId"] == created["taskId"]
    assert pushed["status"] == "completed"
    assert pushed["result"]["content"][0]["text"] == "done push"


async def test_nothing_is_pushed_to_a_caller_that_did_not_ask(queues: Queues) -> None:
    app = TaskApp()
    observer = TaskNotifications()
    transport = sqs_transport(queues)
    async with serving(app, transport, runtime()), client(transport, extensions=[observer]) as c:
        quiet = await raw(c, "tools/call", {"name": "slow", "arguments": {"tag": "quiet"}})
        app.gate.set()
        await wait_for_status(c, quiet["taskId"], "completed")  # a push for it would be sent by now
        loud = await raw(
            c, "tools/call", {"name": "slow", "arguments": {"tag": "loud"}}, **{wire.TASK_NOTIFY_META_KEY: True}
        )
        with anyio.fail_after(30):
            await observer.arrived.wait()
    assert [pushed["taskId"] for pushed in observer.received] == [loud["taskId"]]
