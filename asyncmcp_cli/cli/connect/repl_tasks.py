"""The REPL's ``task`` command: the same verbs as `connect task`, on the REPL's one connection.

``task start TOOL [KEY=VALUE]...`` starts a call as a task and prints its
handle, the same ``amt1.…`` word `connect call --task` prints (task id and the
REPL's client id), so ``asyncmcp connect task get HANDLE`` in another process
finds it; ``task get|wait|cancel TASK`` and ``task update TASK KEY=JSON...``
follow it by handle or bare task id. The REPL speaks as one client id: a
handle naming another one is refused here (the server would read that task as
unknown) with the command that can follow it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from asyncmcp_cli.cli.connect import render, task_render
from asyncmcp_cli.errors import UsageError
from asyncmcp_cli.protocol.safe_text import json_view, markup
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.client import cancel_task, get_task, start_tool_task, update_task, wait_for_task
from asyncmcp_cli.tasks.handles import TaskHandle

if TYPE_CHECKING:
    from asyncmcp_cli.cli.connect.repl import Repl

USAGE = "task start TOOL [KEY=VALUE]... | task get|wait|cancel TASK | task update TASK KEY=JSON..."
HELP = "start a tool call as a task (prints its handle), or follow one by handle or task id"


async def run_task_command(repl: Repl, args: list[str]) -> None:
    if not args:
        raise UsageError(f"usage: {USAGE}")
    verb, rest = args[0], args[1:]
    if verb == "start":
        await _start(repl, rest)
        return
    if verb not in ("get", "wait", "cancel", "update") or not rest:
        raise UsageError(f"usage: {USAGE}")
    task_id = _task_id(repl, rest[0])
    if verb == "cancel":
        with repl.activity.running(f"cancelling task {task_id}"):
            await cancel_task(repl.client, task_id)
        repl.console.print(f"cancellation of task {markup(task_id)} requested", highlight=False)
    elif verb == "update":
        answers = _answers(rest[1:])
        with repl.activity.running(f"answering task {task_id}"):
            await update_task(repl.client, task_id, answers)
        repl.console.print(f"answered {markup(', '.join(sorted(answers)))}", highlight=False)
    else:
        with repl.activity.running(f"{'waiting for' if verb == 'wait' else 'asking about'} task {task_id}"):
            if verb == "wait":
                task = await wait_for_task(repl.client, task_id, on_status=repl.activity.task_status)
            else:
                task = await get_task(repl.client, task_id)
        _show(repl, task)


async def _start(repl: Repl, args: list[str]) -> None:
    if not args:
        raise UsageError("usage: task start TOOL [KEY=VALUE]...")
    name, pairs = args[0], args[1:]
    arguments = await repl.catalog.tool_arguments(name, pairs)
    with repl.activity.running(f"starting {name} as a task"):
        outcome = await start_tool_task(repl.client, name, arguments, progress_callback=repl.activity.progress)
    if isinstance(outcome, wire.CreateTaskResult):
        handle = TaskHandle(outcome.task_id, repl.client_id).encode()
        if repl.raw_json:
            shown = outcome.to_wire() | {"handle": handle, "clientId": repl.client_id}
            repl.console.print(json_view(shown), soft_wrap=True)
        else:
            repl.console.print(task_render.status_line(outcome), highlight=False, soft_wrap=True)
            repl.console.print(f"handle {markup(handle)}", highlight=False, soft_wrap=True)
        return
    repl.console.print("[dim]the server answered at once (no task)[/]", highlight=False)
    render.print_call_result(outcome, repl.console, repl.console)


def _task_id(repl: Repl, text: str) -> str:
    """The task id a handle or bare id names; a handle of another client id is refused, not sent."""
    handle = TaskHandle.parse(text)
    if handle.client_id is not None and handle.client_id != repl.client_id:
        raise UsageError(
            "that task handle belongs to another client id than this session's; "
            "follow it with: asyncmcp connect task get HANDLE (same target options)"
        )
    return handle.task_id


def _show(repl: Repl, task: wire.GetTaskResult) -> None:
    if repl.raw_json:
        repl.console.print(json_view(task.to_wire()), soft_wrap=True)
    else:
        task_render.print_task(task, repl.console, repl.console)


def _answers(pairs: list[str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"not KEY=JSON: {pair!r}")
        try:
            answers[key] = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UsageError(f"the answer to {key!r} is not JSON: {exc}") from None
        if not isinstance(answers[key], dict):
            raise UsageError(f"the answer to {key!r} must be a JSON object")
    if not answers:
        raise UsageError("usage: task update ID KEY=JSON...")
    return answers
