"""Make an SDK server answer with tasks: `enable_tasks(server, runtime)`.

Works on any low-level `Server` (an `MCPServer`'s, a hand-written one, or the
mirror `serve` puts in front of ``-- COMMAND`` / ``--upstream``), so every
transport gets tasks the same way. It adds, without touching plain calls:

- a server middleware (the SDK's hook that wraps every request): a
  ``tools/call`` of a task tool from a caller that declares
  ``io.modelcontextprotocol/tasks`` in the request's ``_meta`` is stored as a
  task, run in the background, and answered at once with the
  ``CreateTaskResult``; a caller without the capability gets the ordinary
  call, or ``-32021`` if the tool requires tasks. ``tools/list`` shows the
  task support of tools named on the command line;
- handlers for ``tasks/get``, ``tasks/update`` and ``tasks/cancel``;
- ``subscriptions/listen`` streams of ``notifications/tasks`` for a listen
  request that names task ids (`tasks.listening`); any other listen request
  goes to the server's own handler;
- the extension in the server's capabilities; the runtime in its lifespan.

A tool is a task tool if named in `tools` (``serve --task-tool``) or if its
definition says so under ``_meta["io.asyncmcp/taskSupport"]`` (`task_tool`).
Tasks are bound to the caller's client id: another client's task id reads as
unknown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from asyncmcp_cli.protocol import codec
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.listening import METHOD_SUBSCRIPTIONS_LISTEN, TaskListening, asks_for_tasks, requested_task_ids
from asyncmcp_cli.tasks.progress import TaskSession
from asyncmcp_cli.tasks.record import TaskRecord
from asyncmcp_cli.tasks.runtime import Invoke, Notify, TaskLookupError, TaskRuntime
from asyncmcp_cli.transports.base import CLIENT_ID

logger = logging.getLogger(__name__)

Ctx = Any  # ServerRequestContext[Any, Any]
_RELIST_SECONDS = 300.0
"""How long a full listing (ours, or a client's passing through) answers which tools declare task support."""
_MAX_LIST_PAGES = 20
_ORIGINAL = "_asyncmcp_before_tasks"


def enable_tasks(
    server: Server[Any], runtime: TaskRuntime, *, tools: Mapping[str, wire.TaskSupport] | None = None
) -> Server[Any]:
    """Serve tasks on `server` (returned, changed in place) with `runtime`."""
    hooks = _TaskHooks(server, runtime, dict(tools or {}))
    # Enabling again (a module-level server served twice in one process) replaces, never stacks.
    original = server.__dict__.setdefault(_ORIGINAL, (server.lifespan, server.get_capabilities))
    inner_lifespan, own_capabilities = original
    server.middleware[:] = [m for m in server.middleware if not isinstance(m, _TaskHooks)] + [hooks]
    server.add_request_handler(wire.METHOD_TASKS_GET, types.RequestParams, hooks.get)
    server.add_request_handler(wire.METHOD_TASKS_UPDATE, types.RequestParams, hooks.update)
    server.add_request_handler(wire.METHOD_TASKS_CANCEL, types.RequestParams, hooks.cancel)
    server.extensions[wire.TASKS_EXTENSION_ID] = {}
    server.get_capabilities = _advertised(own_capabilities)  # type: ignore[method-assign]

    @asynccontextmanager
    async def lifespan(app: Server[Any]) -> AsyncIterator[Any]:
        async with runtime.running(), inner_lifespan(app) as state:
            yield state

    server.lifespan = lifespan
    return server


def _advertised(own: Any) -> Any:
    """Add the extension to capabilities even where a server computes its own (the upstream mirror)."""

    def get_capabilities(*args: Any, **kwargs: Any) -> types.ServerCapabilities:
        capabilities = own(*args, **kwargs)
        extensions = dict(capabilities.extensions or {})
        extensions.setdefault(wire.TASKS_EXTENSION_ID, {})
        return capabilities.model_copy(update={"extensions": extensions})

    return get_capabilities


def caller_id(ctx: Ctx) -> str:
    """Whom a task belongs to: the client id the transport vouched for.

    Queue and webhook transports bind a client id to its reply address before
    a request reaches the server. Streamable HTTP has no such binding; there
    the ``asyncmcp-client-id`` header (or ``_meta``) names the caller, and the
    unguessable task id is what keeps tasks apart.
    """
    bound = CLIENT_ID.get()
    if bound:
        return bound
    headers = getattr(getattr(ctx, "request", None), "headers", None)
    if headers is not None and headers.get(codec.CLIENT_ID):
        return str(headers.get(codec.CLIENT_ID))
    meta = (ctx.params or {}).get("_meta") if isinstance(ctx.params, Mapping) else None
    if isinstance(meta, Mapping) and isinstance(meta.get(codec.META_CLIENT_ID), str):
        return str(meta[codec.META_CLIENT_ID])
    return "-"


def _missing_capability() -> MCPError:
    error = wire.missing_capability_error()
    return MCPError(error["code"], error["message"], error["data"])


class _TaskHooks:
    def __init__(self, server: Server[Any], runtime: TaskRuntime, tools: dict[str, wire.TaskSupport]) -> None:
        self.server = server
        self.runtime = runtime
        self.named = tools
        self.listening = TaskListening(runtime)
        self._declared: dict[str, wire.TaskSupport] = {}
        self._listed_at = float("-inf")

    # -- middleware: tools/call and tools/list -------------------------------

    async def __call__(self, ctx: Ctx, call_next: Any) -> Any:
        if ctx.request_id is None:
            return await call_next(ctx)
        if ctx.method == METHOD_SUBSCRIPTIONS_LISTEN and asks_for_tasks(ctx.params):
            return await self._listen(ctx, call_next)
        if ctx.method == "tools/list":
            first_page = not (isinstance(ctx.params, Mapping) and ctx.params.get("cursor"))
            return self._stamp(await call_next(ctx), whole_listing=first_page)
        if ctx.method != wire.METHOD_TOOLS_CALL or not isinstance(ctx.params, Mapping):
            return await call_next(ctx)
        params = dict(ctx.params)
        name = params.get("name")
        declares = wire.declares_tasks(params) and ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        support = await self._support(ctx, name) if isinstance(name, str) else "forbidden"
        if support == "forbidden":
            return await call_next(ctx)
        if not declares:
            if support == "required":
                raise _missing_capability()
            return await call_next(ctx)
        if not self.runtime.has_room:
            if support == "required":
                raise MCPError(types.INTERNAL_ERROR, "Too many tasks running on this server; try again later")
            return await call_next(ctx)
        notify = self._notifier(ctx) if _wants_push(params) else None
        record = await self.runtime.start(
            owner=caller_id(ctx), tool=name, params=_call_params(params), invoke=self._invoker(ctx), notify=notify
        )
        logger.info("task %s started: %s for client %s", record.task_id[:12], name, record.owner)
        return record.create_result()

    async def _listen(self, ctx: Ctx, call_next: Any) -> Any:
        """A ``subscriptions/listen`` naming task ids: served here (`tasks.listening`), at 2026-07-28 only."""
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return await call_next(ctx)  # the SDK refuses the method on a handshake-era connection
        self._require_capability(ctx)
        task_ids = requested_task_ids(ctx.params)
        return await self.listening.serve(ctx, task_ids, caller_id(ctx))

    async def _support(self, ctx: Ctx, name: str) -> wire.TaskSupport:
        """Operator's word first, then the tool's own, as learnt from ``tools/list``.

        The server lists its tools at most every `_RELIST_SECONDS`, and a client's own
        listing of every tool passing through counts as one, so a plain call seldom costs
        a lookup; but it is made for a caller without the capability too, which must get
        ``-32021`` from a tool that requires tasks.
        """
        if name in self.named:
            return self.named[name]
        if name not in self._declared and time.monotonic() - self._listed_at > _RELIST_SECONDS:
            await self._list_tools(ctx)
        return self._declared.get(name, "forbidden")

    async def _list_tools(self, ctx: Ctx) -> None:
        """Learn the tools' own task declarations from the server's ``tools/list``."""
        self._listed_at = time.monotonic()
        entry = self.server.get_request_handler("tools/list")
        if entry is None:
            return
        cursor: str | None = None
        try:
            for _ in range(_MAX_LIST_PAGES):
                page_ctx = replace(ctx, method="tools/list", params={"cursor": cursor} if cursor else None)
                listed = await entry.handler(page_ctx, types.PaginatedRequestParams(cursor=cursor))
                self._stamp(_dump(listed), whole_listing=False)
                cursor = getattr(listed, "next_cursor", None)
                if not cursor:
                    return
        except Exception as exc:  # a failed lookup must not fail the plain call that prompted it
            logger.warning("could not list tools to learn their task support: %s", exc)

    def _stamp(self, listed: Any, *, whole_listing: bool) -> Any:
        """Show command-line task tools in ``tools/list``; remember what every tool declares.

        A client's listing of every tool (one page, no cursor) is as good as our own lookup.
        """
        tools = listed.get("tools") if isinstance(listed, dict) else None
        if whole_listing and isinstance(tools, list) and not (isinstance(listed, dict) and listed.get("nextCursor")):
            self._listed_at = time.monotonic()
        for tool in tools if isinstance(tools, list) else ():
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                continue
            name = tool["name"]
            meta = tool.get("_meta") if isinstance(tool.get("_meta"), dict) else {}
            if name in self.named:
                tool["_meta"] = {**meta, wire.TOOL_TASK_SUPPORT_META_KEY: self.named[name]}
            elif meta.get(wire.TOOL_TASK_SUPPORT_META_KEY) in ("optional", "required"):
                self._declared[name] = meta[wire.TOOL_TASK_SUPPORT_META_KEY]
        return listed

    def _invoker(self, ctx: Ctx) -> Invoke:
        """Run the server's own ``tools/call`` handler for a task, with progress captured."""

        async def invoke(task_id: str, params: dict[str, Any]) -> dict[str, Any]:
            entry = self.server.get_request_handler(wire.METHOD_TOOLS_CALL)
            if entry is None:
                raise MCPError(types.METHOD_NOT_FOUND, "Method not found", wire.METHOD_TOOLS_CALL)
            session = TaskSession(ctx.session, task_id, self.runtime)
            run_ctx = replace(ctx, method=wire.METHOD_TOOLS_CALL, params=params, session=session)
            typed = entry.params_type.model_validate(params, by_name=False)
            result = await entry.handler(run_ctx, typed)
            if isinstance(result, types.ErrorData):
                raise MCPError.from_error_data(result)
            return _dump(result)

        return invoke

    def _notifier(self, ctx: Ctx) -> Notify:
        """Send ``notifications/tasks`` to the caller's own reply address (already on the allow-list)."""
        session = ctx.session

        async def notify(record: TaskRecord) -> None:
            try:
                # No related request: the SDK sends it on the connection's own channel (the reply address).
                await session.send_notification(wire.TaskStatusNotification.of(record.to_wire()))
            except Exception as exc:  # the client's session may be gone; the task itself is safe in the store
                logger.warning("task %s: could not push its state to the client: %s", record.task_id[:12], exc)

        return notify

    # -- tasks/get, tasks/update, tasks/cancel --------------------------------

    async def get(self, ctx: Ctx, _params: types.RequestParams) -> dict[str, Any]:
        task_id = self._task_id(ctx)
        record = await self._lookup(self.runtime.get(task_id, caller_id(ctx)))
        return {**record.to_wire(), "resultType": wire.RESULT_TYPE_COMPLETE}

    async def cancel(self, ctx: Ctx, _params: types.RequestParams) -> dict[str, Any]:
        task_id = self._task_id(ctx)
        record = await self._lookup(self.runtime.cancel(task_id, caller_id(ctx)))
        logger.info("task %s: cancel asked; now %s", task_id[:12], record.status)
        return wire.EmptyTaskResult().to_wire()

    async def update(self, ctx: Ctx, _params: types.RequestParams) -> dict[str, Any]:
        self._require_capability(ctx)
        try:
            parsed = wire.UpdateTaskParams.model_validate(ctx.params or {})
        except ValidationError:
            raise MCPError(types.INVALID_PARAMS, "tasks/update needs taskId and an inputResponses object") from None
        owner = caller_id(ctx)
        await self._lookup(
            self.runtime.answer(parsed.task_id, owner, parsed.input_responses, self._invoker(ctx), self._notifier(ctx))
        )
        return wire.EmptyTaskResult().to_wire()

    def _task_id(self, ctx: Ctx) -> str:
        self._require_capability(ctx)
        try:
            return wire.TaskIdParams.model_validate(ctx.params or {}).task_id
        except ValidationError:
            raise MCPError(types.INVALID_PARAMS, wire.TASK_NOT_FOUND_MESSAGE) from None

    @staticmethod
    def _require_capability(ctx: Ctx) -> None:
        if not wire.declares_tasks(ctx.params if isinstance(ctx.params, Mapping) else None):
            raise _missing_capability()

    @staticmethod
    async def _lookup(pending: Any) -> TaskRecord:
        try:
            return await pending
        except TaskLookupError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None


def _wants_push(params: Mapping[str, Any]) -> bool:
    meta = params.get("_meta")
    return isinstance(meta, Mapping) and meta.get(wire.TASK_NOTIFY_META_KEY) is True


def _call_params(params: dict[str, Any]) -> dict[str, Any]:
    """The call as the task will run it: without our push request or a progress token it cannot honour."""
    meta = params.get("_meta")
    if isinstance(meta, Mapping):
        kept = {k: v for k, v in meta.items() if k not in (wire.TASK_NOTIFY_META_KEY, "progressToken")}
        params = {**params, "_meta": kept}
    return params


def _dump(result: Any) -> dict[str, Any]:
    if isinstance(result, BaseModel):
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dict(result) if isinstance(result, Mapping) else {}
