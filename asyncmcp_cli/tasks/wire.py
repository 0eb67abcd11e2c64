"""Wire shapes of the MCP Tasks extension, shared by the server runtime and clients.

Follows the final text of SEP-2663, ``specification/draft/tasks.md`` and
``schema/draft/schema.ts`` of the ``modelcontextprotocol/ext-tasks`` repository
(extension ``io.modelcontextprotocol/tasks``, protocol era 2026-07-28):

- the client declares the extension per request, in
  ``params._meta["io.modelcontextprotocol/clientCapabilities"].extensions``;
  only then may a server answer ``tools/call`` with a `CreateTaskResult`
  (``resultType: "task"``, flat ``Result & Task``);
- ``tasks/get`` answers a `GetTaskResult` (``resultType: "complete"``, the task
  with ``result`` / ``error`` / ``inputRequests`` inlined by status);
  ``tasks/update`` (``inputResponses``) and ``tasks/cancel`` answer an empty
  acknowledgement (``resultType: "complete"``);
- an unknown or expired task id is ``-32602`` (Invalid params); a task method or
  a task-only tool called without the capability is ``-32021`` (Missing required
  client capability) with ``data.requiredCapabilities``.

The final spec has no tool-level task declaration (the 2025-11-25
``execution.taskSupport`` was dropped: the server decides per request). This
project still lets a tool say what it does, under `TOOL_TASK_SUPPORT_META_KEY`
in the tool's ``_meta`` (and ``execution.taskSupport`` for 2025-11-25 peers).

Beyond the spec, a caller may ask to be told when its task ends (or needs
input) by putting ``true`` under `TASK_NOTIFY_META_KEY` in the ``tools/call``
``_meta``: the server then sends a ``notifications/tasks`` message to the
caller's own reply address (the one its transport declared, already checked
against the server's allow-list), signed and retried like every reply.

Only pydantic here, so client code can import it without the server runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TASKS_EXTENSION_ID = "io.modelcontextprotocol/tasks"
"""The extension identifier, in client and server capabilities ``extensions``."""

CLIENT_CAPABILITIES_META_KEY = "io.modelcontextprotocol/clientCapabilities"
"""Where a 2026-era request carries its per-request client capabilities."""

TOOL_TASK_SUPPORT_META_KEY = "io.asyncmcp/taskSupport"
"""A tool's own declaration in its ``_meta``: one of `TaskSupport` (project-defined)."""

TASK_NOTIFY_META_KEY = "io.asyncmcp/taskNotify"
"""``tools/call`` ``_meta`` key; ``true`` asks for a ``notifications/tasks`` message
(params: the `DetailedTask`) at the caller's reply address when the task ends or
needs input (project-defined)."""

METHOD_TOOLS_CALL = "tools/call"
METHOD_TASKS_GET = "tasks/get"
METHOD_TASKS_UPDATE = "tasks/update"
METHOD_TASKS_CANCEL = "tasks/cancel"
NOTIFICATION_TASKS = "notifications/tasks"
TASK_METHODS = frozenset({METHOD_TASKS_GET, METHOD_TASKS_UPDATE, METHOD_TASKS_CANCEL})
"""Request methods a task-capable server answers (``tasks/result`` and
``tasks/list`` no longer exist and get ``-32601``)."""

RESULT_TYPE_TASK = "task"
RESULT_TYPE_COMPLETE = "complete"

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
WORKING: TaskStatus = "working"
INPUT_REQUIRED: TaskStatus = "input_required"
COMPLETED: TaskStatus = "completed"
FAILED: TaskStatus = "failed"
CANCELLED: TaskStatus = "cancelled"
TERMINAL_STATUSES: frozenset[str] = frozenset({COMPLETED, FAILED, CANCELLED})
ALL_STATUSES: frozenset[str] = frozenset({WORKING, INPUT_REQUIRED, *TERMINAL_STATUSES})

TaskSupport = Literal["forbidden", "optional", "required"]
"""``optional``: a task for callers that declare the extension, a blocking call
for the others; ``required``: callers without the capability get ``-32021``."""

# JSON-RPC error codes the extension uses.
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021

TASK_NOT_FOUND_MESSAGE = "Failed to retrieve task: Task not found"
TASK_EXPIRED_MESSAGE = "Failed to retrieve task: Task has expired"
MISSING_CAPABILITY_MESSAGE = "Missing required client capability"

MAX_TASK_ID_LENGTH = 128
"""Task ids this project issues are far shorter; longer ones are rejected unread."""


class _WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields kept."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    def to_wire(self) -> dict[str, Any]:
        """The JSON object as it goes on the wire."""
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


class Task(_WireModel):
    """A task's operational metadata (spec ``Task``)."""

    task_id: str = Field(alias="taskId")
    status: TaskStatus
    status_message: str | None = Field(default=None, alias="statusMessage")
    created_at: str = Field(alias="createdAt")
    last_updated_at: str = Field(alias="lastUpdatedAt")
    ttl_ms: int | None = Field(alias="ttlMs")
    poll_interval_ms: int | None = Field(default=None, alias="pollIntervalMs")

    def to_wire(self) -> dict[str, Any]:
        wire = super().to_wire()
        wire["ttlMs"] = self.ttl_ms  # null means unlimited: always present
        return wire


class DetailedTask(Task):
    """A task with its status-specific field inlined (spec ``DetailedTask``).

    ``result`` only when ``completed``, ``error`` only when ``failed``,
    ``inputRequests`` only when ``input_required``.
    """

    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = Field(default=None, alias="inputRequests")


class CreateTaskResult(Task):
    """The answer to a task-augmented ``tools/call`` (``resultType: "task"``)."""

    result_type: Literal["task"] = Field(default=RESULT_TYPE_TASK, alias="resultType")


class GetTaskResult(DetailedTask):
    """The answer to ``tasks/get`` (``resultType: "complete"``)."""

    result_type: Literal["complete"] = Field(default=RESULT_TYPE_COMPLETE, alias="resultType")


class TaskStatusNotificationParams(DetailedTask):
    """Params of ``notifications/tasks``: the same task ``tasks/get`` would return."""


class TaskStatusNotification(_WireModel):
    """A whole ``notifications/tasks`` message, in the shape the SDK's ``send_notification`` takes.

    `params` is a `DetailedTask` on the wire (plus, on a ``subscriptions/listen``
    stream, the ``_meta`` naming the subscription).
    """

    method: Literal["notifications/tasks"] = NOTIFICATION_TASKS
    params: dict[str, Any]

    @classmethod
    def of(cls, task: Mapping[str, Any], *, meta: Mapping[str, Any] | None = None) -> TaskStatusNotification:
        params = dict(task)
        if meta:
            params["_meta"] = dict(meta)
        return cls(params=params)


class TaskIdParams(_WireModel):
    """Params of ``tasks/get`` and ``tasks/cancel``."""

    task_id: str = Field(alias="taskId", min_length=1, max_length=MAX_TASK_ID_LENGTH)


GetTaskParams = TaskIdParams
CancelTaskParams = TaskIdParams


class UpdateTaskParams(TaskIdParams):
    """Params of ``tasks/update``: answers keyed like the outstanding ``inputRequests``."""

    input_responses: dict[str, Any] = Field(alias="inputResponses")


class EmptyTaskResult(_WireModel):
    """The acknowledgement of ``tasks/update`` and ``tasks/cancel``."""

    result_type: Literal["complete"] = Field(default=RESULT_TYPE_COMPLETE, alias="resultType")


UpdateTaskResult = EmptyTaskResult
CancelTaskResult = EmptyTaskResult


def declares_tasks(params: Mapping[str, Any] | None) -> bool:
    """Whether a request's params declare the tasks extension in ``_meta``.

    Tolerates any shape (the params come off a queue): anything but the exact
    declared object path reads as "not declared".
    """
    if not isinstance(params, Mapping):
        return False
    meta = params.get("_meta")
    if not isinstance(meta, Mapping):
        return False
    capabilities = meta.get(CLIENT_CAPABILITIES_META_KEY)
    if not isinstance(capabilities, Mapping):
        return False
    extensions = capabilities.get("extensions")
    return isinstance(extensions, Mapping) and isinstance(extensions.get(TASKS_EXTENSION_ID), Mapping)


def with_tasks_capability(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a request ``_meta`` that declares the tasks extension (for clients)."""
    result = dict(meta or {})
    capabilities = dict(result.get(CLIENT_CAPABILITIES_META_KEY) or {})
    extensions = dict(capabilities.get("extensions") or {})
    extensions.setdefault(TASKS_EXTENSION_ID, {})
    capabilities["extensions"] = extensions
    result[CLIENT_CAPABILITIES_META_KEY] = capabilities
    return result


def missing_capability_error() -> dict[str, Any]:
    """The JSON-RPC error object (``code``, ``message``, ``data``) for ``-32021``."""
    return {
        "code": MISSING_REQUIRED_CLIENT_CAPABILITY,
        "message": MISSING_CAPABILITY_MESSAGE,
        "data": {"requiredCapabilities": {"extensions": {TASKS_EXTENSION_ID: {}}}},
    }


def is_create_task_result(result: Mapping[str, Any] | None) -> bool:
    """Whether a ``tools/call`` result is a task handle rather than a final result."""
    return isinstance(result, Mapping) and result.get("resultType") == RESULT_TYPE_TASK
