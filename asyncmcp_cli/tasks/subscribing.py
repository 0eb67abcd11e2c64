"""The client's side of ``subscriptions/listen`` for tasks: be told of your tasks' changes instead of polling.

`listening_to_tasks(client, task_ids)` sends the spec's listen request
(``params.notifications.taskIds``) and keeps it open while the block runs; the
server answers with ``notifications/tasks`` on it, which the client's
`TasksExtension` receives like any push (so ``wait_for_task(...,
pushed=extension.pushed)`` ends as soon as the end arrives). The SDK's own
``Client.listen`` cannot name task ids, so the request goes through the SDK's
public ``send_request``; leaving the block cancels it, and the server ends the
stream. The server ends it by itself once every task it agreed to is over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import mcp_types as types
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.tasks.handles import check_task_id

if TYPE_CHECKING:
    from mcp import Client
    from mcp.client.session import ClientSession

DEFAULT_LISTEN_SECONDS = 24 * 3600.0
"""How long a listen request may stay open unless the caller says otherwise (it ends sooner with its tasks)."""


class TaskSubscription:
    """One open listen stream for tasks: whether and how it has ended."""

    def __init__(self) -> None:
        self.ended = anyio.Event()
        """Set when the server closed the stream (every task over) or refused it (`error`)."""
        self.error: MCPError | None = None


@asynccontextmanager
async def listening_to_tasks(
    client: Client | ClientSession, task_ids: Sequence[str], *, within: float = DEFAULT_LISTEN_SECONDS
) -> AsyncIterator[TaskSubscription]:
    """Listen for ``notifications/tasks`` about `task_ids` (this client's own tasks) while inside the block."""
    for task_id in task_ids:
        check_task_id(task_id)
    session: ClientSession = getattr(client, "session", client)
    request = types.SubscriptionsListenRequest(
        params=types.SubscriptionsListenRequestParams(
            notifications=types.SubscriptionFilter.model_validate({"taskIds": list(task_ids)})
        )
    )
    subscription = TaskSubscription()

    async def listen() -> None:
        try:
            await session.send_request(request, types.SubscriptionsListenResult, request_read_timeout_seconds=within)
        except MCPError as exc:
            subscription.error = exc
        finally:
            subscription.ended.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(listen)
        try:
            yield subscription
        finally:
            tg.cancel_scope.cancel()
