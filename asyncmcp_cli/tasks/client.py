"""Client half of the Tasks extension: start a tool call as a task, then get, wait for, cancel or update it.

Built on the SDK's own extension hooks. `TasksExtension` is a `ClientExtension`:
passed to ``mcp.Client(extensions=[...])`` it makes the SDK declare
``io.modelcontextprotocol/tasks`` in every request's per-request client
capabilities (2026-07-28 era only: the SDK drops a claim-bearing extension from
the ad on a handshake-era connection, where no task may be returned), and it
claims ``resultType: "task"`` on ``tools/call``. Two ways to use it:

- transparently: ``await client.call_tool(...)`` returns the final
  `CallToolResult`; a task is polled to the end by `TasksExtension`'s resolver
  (the backwards-compatible client of the spec);
- explicitly: `start_tool_task` returns the task itself (or the result, when
  the server chose to answer at once), and `get_task`, `wait_for_task`,
  `cancel_task`, `update_task` work on a task id, from this process or any
  other that reaches the same server (task ids are the server's, not the
  connection's).

Everything the server sends is validated against the wire models before use;
a task id it hands out is checked with `handles.check_task_id`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import mcp_types as types
from mcp.client.extension import ClaimContext, ClientExtension, NotificationBinding, ResultClaim
from pydantic import ValidationError

from asyncmcp_cli.errors import AsyncMCPError
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.handles import check_task_id
from asyncmcp_cli.tasks.waiting import OnStatus, Pushed, poll_until_terminal

if TYPE_CHECKING:
    from mcp import Client
    from mcp.client.session import ClientSession


class TaskError(AsyncMCPError):
    """A task ended without a result (failed or cancelled), or the server's answer about it is malformed."""


class TaskFailedError(TaskError):
    """The task reached ``failed``: the JSON-RPC error it ended with is in `error`."""

    def __init__(self, task: wire.GetTaskResult) -> None:
        self.task = task
        self.error = task.error or {}
        message = self.error.get("message") if isinstance(self.error, dict) else None
        super().__init__(f"task {task.task_id} failed: {message or task.status_message or 'no reason given'}")


class TaskCancelledError(TaskError):
    """The task reached ``cancelled``."""

    def __init__(self, task: wire.GetTaskResult) -> None:
        self.task = task
        super().__init__(
            f"task {task.task_id} was cancelled" + (f": {task.status_message}" if task.status_message else "")
        )


class CreatedTask(types.Result):
    """A ``tools/call`` answered with a task handle (``CreateTaskResult``: ``Result & Task``).

    An SDK `Result` so that the SDK can parse it as the claimed shape; `task`
    gives the project's wire model.
    """

    result_type: Literal["task"] = "task"
    task_id: str
    status: wire.TaskStatus
    status_message: str | None = None
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None

    def task(self) -> wire.CreateTaskResult:
        return wire.CreateTaskResult.model_validate(self.model_dump(by_alias=True, exclude_none=False))


class _TaskIdParams(types.RequestParams):
    task_id: str


class _UpdateParams(_TaskIdParams):
    input_responses: dict[str, Any]


class _GetTaskRequest(types.Request[_TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    name_param = "taskId"  # the spec's Mcp-Name header over streamable HTTP


class _CancelTaskRequest(types.Request[_TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    name_param = "taskId"


class _UpdateTaskRequest(types.Request[_UpdateParams, Literal["tasks/update"]]):
    method: Literal["tasks/update"] = "tasks/update"
    name_param = "taskId"


class _RawResult(types.Result):
    """Whatever the server answered, kept whole; validated against the wire models afterwards."""

    model_config = {"extra": "allow"}


def _session(client: Client | ClientSession) -> ClientSession:
    return getattr(client, "session", client)  # type: ignore[return-value]


async def _send(
    client: Client | ClientSession, request: types.Request[Any, Any], timeout: float | None
) -> dict[str, Any]:
    raw = await _session(client).send_request(request, _RawResult, request_read_timeout_seconds=timeout)
    return raw.model_dump(by_alias=True, mode="json", exclude_none=True)


async def get_task(client: Client | ClientSession, task_id: str, *, timeout: float | None = None) -> wire.GetTaskResult:
    """One ``tasks/get``: the task's status, with its result, error or input requests inlined."""
    check_task_id(task_id)
    raw = await _send(client, _GetTaskRequest(params=_TaskIdParams(task_id=task_id)), timeout)
    try:
        task = wire.GetTaskResult.model_validate(raw)
    except ValidationError as exc:
        raise TaskError(f"the server's tasks/get answer is not a task: {exc.errors()[0]['msg']}") from None
    if task.task_id != task_id:
        raise TaskError(f"asked for task {task_id} and the server answered about another task")
    return task


async def cancel_task(client: Client | ClientSession, task_id: str, *, timeout: float | None = None) -> None:
    """``tasks/cancel``: ask the server to stop the task (cooperative; it may still complete)."""
    check_task_id(task_id)
    await _send(client, _CancelTaskRequest(params=_TaskIdParams(task_id=task_id)), timeout)


async def update_task(
    client: Client | ClientSession,
    task_id: str,
    input_responses: Mapping[str, Any],
    *,
    timeout: float | None = None,
) -> None:
    """``tasks/update``: answer some or all of an ``input_required`` task's ``inputRequests`` by key."""
    check_task_id(task_id)
    params = _UpdateParams(task_id=task_id, input_responses=dict(input_responses))
    await _send(client, _UpdateTaskRequest(params=params), timeout)


async def wait_for_task(
    client: Client | ClientSession,
    task_id: str,
    *,
    on_status: OnStatus | None = None,
    request_timeout: float | None = None,
    pushed: Pushed | None = None,
) -> wire.GetTaskResult:
    """Poll ``tasks/get`` until the task is terminal, sleeping the server's ``pollIntervalMs`` between polls.

    `on_status` sees every answer (the display's progress). With `pushed` (the
    client's `TasksExtension`), a terminal state the server pushes in
    ``notifications/tasks`` ends the wait at once, between polls. Bound the
    whole wait with ``anyio.fail_after`` around the call.
    """
    return await poll_until_terminal(
        lambda: get_task(client, task_id, timeout=request_timeout), on_status=on_status, pushed=pushed
    )


async def start_tool_task(
    client: Client,
    name: str,
    arguments: dict[str, Any] | None = None,
    *,
    progress_callback: Any = None,
    meta: dict[str, Any] | None = None,
    push: bool = False,
) -> wire.CreateTaskResult | types.CallToolResult:
    """Call a tool declaring the tasks capability; return the task the server made, or its result at once.

    The server decides: a tool it runs as a task answers with the task (status
    ``working``, usually), any other with its ordinary result. The client must
    have been built with `TasksExtension` so the capability is declared.
    With `push`, the server is asked (an asyncmcp extension, ignored by other
    servers) to send ``notifications/tasks`` to this client when the task
    ends; `wait_for_task(..., pushed=extension)` then returns without waiting
    for the next poll.
    """
    if push:
        meta = {**(meta or {}), wire.TASK_NOTIFY_META_KEY: True}
    if not any(isinstance(ext, TasksExtension) for ext in client.extensions or ()):
        raise TaskError("start_tool_task needs a Client built with extensions=[TasksExtension()]")
    result = await client.session.call_tool(
        name, arguments, progress_callback=progress_callback, meta=meta, allow_claimed=True
    )
    if isinstance(result, CreatedTask):
        check_task_id(result.task_id)
        return result.task()
    if isinstance(result, types.CallToolResult):
        return result
    raise TaskError(f"the server answered tools/call {name} with a {type(result).__name__}, which is not supported")


def call_result_of(task: wire.GetTaskResult) -> types.CallToolResult:
    """The tool's `CallToolResult` of a terminal task; `TaskFailedError` / `TaskCancelledError` otherwise."""
    if task.status == wire.FAILED:
        raise TaskFailedError(task)
    if task.status == wire.CANCELLED:
        raise TaskCancelledError(task)
    if task.status != wire.COMPLETED or task.result is None:
        raise TaskError(f"task {task.task_id} is {task.status}, with no result yet")
    try:
        return types.CallToolResult.model_validate(task.result, by_name=False)
    except ValidationError as exc:
        raise TaskError(f"task {task.task_id}'s result is not a tool result: {exc.errors()[0]['msg']}") from None


class TasksExtension(ClientExtension):
    """Declares ``io.modelcontextprotocol/tasks`` and finishes task-augmented tool calls by polling.

    `on_status` (optional) sees each ``tasks/get`` answer of the tasks that
    ``Client.call_tool`` waits for.
    """

    identifier = wire.TASKS_EXTENSION_ID

    def __init__(self, *, on_status: OnStatus | None = None) -> None:
        self._on_status = on_status
        self.pushed = Pushed()
        """Terminal task states the server pushed (``notifications/tasks``)."""

    def claims(self) -> Sequence[ResultClaim[Any]]:
        return (ResultClaim(result_type=wire.RESULT_TYPE_TASK, model=CreatedTask, resolve=self._resolve),)

    def notifications(self) -> Sequence[NotificationBinding[Any]]:
        return (
            NotificationBinding(
                method=wire.NOTIFICATION_TASKS, params_type=wire.TaskStatusNotificationParams, handler=self._pushed
            ),
        )

    async def _pushed(self, params: wire.TaskStatusNotificationParams) -> None:
        self.pushed.note(params)

    async def _resolve(self, created: CreatedTask, ctx: ClaimContext) -> types.CallToolResult:
        check_task_id(created.task_id)
        task = await wait_for_task(
            ctx.session,
            created.task_id,
            on_status=self._on_status,
            request_timeout=ctx.read_timeout_seconds,
            pushed=self.pushed,
        )
        return call_result_of(task)
