"""Tasks from the command line: `connect call TOOL --task`, then `connect task get|wait|cancel|update TASK`.

The task handle `call --task` prints (task id and client id, see
`asyncmcp_cli.tasks.handles`) is all a later command needs, with the same
target options (or profile) as the call: the server keeps the task in its
store, so the process that asks need not be the one that started it, and the
server that answers need not be the one that runs it.

Exit codes of `task get` and `task wait`: 0 completed · 1 completed, but the
tool reported an error (isError) · 6 failed (the JSON-RPC error is printed) ·
7 still running (working or input_required; `get` only, or `wait --for` ran
out) · 8 cancelled, or the task is unknown or has expired.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asyncmcp_cli.cli._common import (
    ExitCode,
    JsonFlag,
    console,
    err_console,
    fail,
    print_json,
    seconds_or_zero,
    with_transport_options,
)
from asyncmcp_cli.cli.connect.app import connect_app
from asyncmcp_cli.cli.connect.options import ClientOptions, with_client_options
from asyncmcp_cli.protocol import safe_text

if TYPE_CHECKING:
    from mcp import Client

    from asyncmcp_cli.cli.connect.activity import Activity
    from asyncmcp_cli.protocol.catalog import Catalog
    from asyncmcp_cli.tasks import wire

task_app = typer.Typer(
    name="task",
    help="Follow a task started with `connect call TOOL --task`: get its status, wait for its result, cancel it, "
    "or answer its input requests. Give the same target options (or profile) as the call.\n\n"
    "Exit codes (get, wait): 0 completed · 1 completed with isError · 6 failed · 7 still running · "
    "8 cancelled, unknown or expired; otherwise as for every connect command.",
    rich_markup_mode="rich",
)
connect_app.add_typer(task_app)

TaskId = Annotated[
    str,
    typer.Argument(
        metavar="TASK",
        help="The task handle `call --task` printed (or a bare task id, with --client-id if the server binds tasks "
        "to one); '-' reads it from stdin.",
    ),
]


def _handle(text: str, client: ClientOptions) -> tuple[str, ClientOptions]:
    """The task id a TASK argument names, and the client options to ask with (the handle's client id)."""
    import dataclasses

    from asyncmcp_cli.errors import UsageError
    from asyncmcp_cli.tasks.handles import TaskHandle

    try:
        handle = TaskHandle.parse(sys.stdin.readline() if text == "-" else text)
    except UsageError as exc:
        raise fail(str(exc), ExitCode.USAGE) from None
    if handle.client_id is None:
        return handle.task_id, client
    if client.client_id not in (None, handle.client_id):
        raise fail("the task handle names another client id than --client-id; give one of them", ExitCode.USAGE)
    return handle.task_id, dataclasses.replace(client, client_id=handle.client_id)


def own_client_id(client: ClientOptions) -> ClientOptions:
    """`client` with a client id of its own, so the handle can name it (queue and webhook targets bind tasks to it)."""
    import dataclasses

    from asyncmcp_cli.transports.base import NamingTransport
    from asyncmcp_cli.transports.queue_client import new_client_id

    if client.client_id is not None:
        return client
    target = client.target()
    if target.transport is None:
        return client  # stdio: the task belongs to that process; HTTP: the server names no client
    fresh = target.transport.new_client_id() if isinstance(target.transport, NamingTransport) else new_client_id()
    return dataclasses.replace(client, client_id=fresh)


async def _answered_later(context: Any, params: Any) -> Any:
    """Declares elicitation, so a task tool may ask for input (``input_required``) rather than fail at once.

    A task's questions are answered later with `task update`; one asked by a
    call the server answers at once has nobody to answer it here.
    """
    import mcp_types as types

    return types.ErrorData(
        code=types.INVALID_REQUEST,
        message="this command cannot answer questions; tasks are answered with `asyncmcp connect task update`",
    )


def start_task(
    client: ClientOptions,
    name: str,
    pairs: list[str],
    *,
    args_json: str | None,
    no_validate: bool,
    json_output: bool,
) -> None:
    """`call --task`: start the call as a task and print its id, without waiting for the result."""
    from asyncmcp_cli.cli.connect.commands import check_words, run_with_client
    from asyncmcp_cli.protocol.arguments import build_arguments
    from asyncmcp_cli.tasks.client import start_tool_task
    from asyncmcp_cli.tasks.handles import TaskHandle

    check_words(pairs, args_json)
    if client.era not in (None, "stateless", "auto"):
        raise fail("--task needs the stateless (2026-07-28) era: tasks are declared per request", ExitCode.USAGE)
    client = own_client_id(client)

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> Any:
        if no_validate:
            prepared = build_arguments(pairs, args_json=args_json)
        else:
            with activity.running("listing tools"):
                prepared = await catalog.tool_arguments(name, pairs, args_json)
        with activity.running(f"starting {name} as a task"):
            return await start_tool_task(mcp, name, prepared, progress_callback=activity.progress)

    outcome = run_with_client(client, body, client_options={"elicitation_callback": _answered_later})
    from asyncmcp_cli.cli.connect import render
    from asyncmcp_cli.tasks import wire

    if not isinstance(outcome, wire.CreateTaskResult):
        # The server chose to answer at once: the call is done, print it as `call` would.
        if json_output:
            print_json(render.as_json(outcome))
        else:
            err_console.print("[dim]the server answered at once (no task)[/]", highlight=False)
            render.print_call_result(outcome, console, err_console)
        if outcome.is_error:
            raise typer.Exit(int(ExitCode.TOOL_ERROR))
        return
    handle = TaskHandle(outcome.task_id, client.client_id).encode()
    if json_output:
        print_json(outcome.to_wire() | {"handle": handle, "clientId": client.client_id})
        return
    err_console.print(
        f"[green]task started[/] {safe_text.markup(name)} · status {safe_text.markup(outcome.status)}"
        + (f" · {safe_text.markup(outcome.status_message)}" if outcome.status_message else "")
        + (f" · kept {outcome.ttl_ms / 1000:g} s" if outcome.ttl_ms else ""),
        highlight=False,
    )
    err_console.print(f"  task id    {safe_text.markup(outcome.task_id)}", highlight=False)
    console.print(handle, soft_wrap=True, highlight=False)
    err_console.print(
        "get the result with: asyncmcp connect task wait TASK (this handle; same target options, any process)",
        highlight=False,
    )


def _follow(client: ClientOptions, task_id: str, *, wait: bool, wait_for: float) -> wire.GetTaskResult:
    """One ``tasks/get``, or polling until the task ends (or `wait_for` runs out: the last status seen)."""
    import anyio
    from mcp.shared.exceptions import MCPError

    from asyncmcp_cli.cli.connect.commands import run_with_client
    from asyncmcp_cli.tasks.client import get_task, wait_for_task
    from asyncmcp_cli.tasks.wire import INVALID_PARAMS

    async def follow(mcp: Client, activity: Activity) -> wire.GetTaskResult:
        if not wait:
            with activity.running(f"asking about task {task_id}"):
                return await get_task(mcp, task_id)
        last: list[wire.GetTaskResult] = []

        async def seen(task: wire.GetTaskResult) -> None:
            last[:] = [task]
            await activity.task_status(task)

        with activity.running(f"waiting for task {task_id}"), anyio.move_on_after(wait_for or float("inf")):
            return await wait_for_task(mcp, task_id, on_status=seen)
        if not last:
            raise fail(f"no answer about task {task_id} within {wait_for:g} s", ExitCode.TIMEOUT)
        err_console.print(f"still {last[0].status} after {wait_for:g} s; wait again later", highlight=False)
        return last[0]

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> wire.GetTaskResult:
        try:
            return await follow(mcp, activity)
        except MCPError as exc:
            if exc.error.code != INVALID_PARAMS:
                raise
            # The spec's answer for a task id the server does not know, or no longer keeps.
            raise fail(f"no such task: {exc.error.message}", ExitCode.GONE) from None

    return run_with_client(client, body)


def _exit_code(task: wire.GetTaskResult) -> ExitCode:
    from asyncmcp_cli.tasks import wire
    from asyncmcp_cli.tasks.client import TaskError, call_result_of

    if task.status == wire.COMPLETED:
        try:
            return ExitCode.TOOL_ERROR if call_result_of(task).is_error else ExitCode.OK
        except TaskError:
            return ExitCode.PROTOCOL
    if task.status == wire.FAILED:
        return ExitCode.PROTOCOL
    if task.status == wire.CANCELLED:
        return ExitCode.GONE
    return ExitCode.PENDING


def _print_task(task: wire.GetTaskResult, *, json_output: bool) -> None:
    from asyncmcp_cli.cli.connect import task_render

    if json_output:
        print_json(task.to_wire())
    else:
        task_render.print_task(task, console, err_console)


def _get_or_wait(client: ClientOptions, task_id: str, *, wait: bool, wait_for: float, json_output: bool) -> None:
    task_id, client = _handle(task_id, client)
    task = _follow(client, task_id, wait=wait, wait_for=wait_for)
    _print_task(task, json_output=json_output)
    raise typer.Exit(int(_exit_code(task)))


@task_app.command("get")
@with_transport_options
@with_client_options
def task_get(task_id: TaskId, *, json_output: JsonFlag = False, client: ClientOptions) -> None:
    """Print a task's status once (and its result, error or input requests when it has them)."""
    _get_or_wait(client, task_id, wait=False, wait_for=0.0, json_output=json_output)


@task_app.command("wait")
@with_transport_options
@with_client_options
def task_wait(
    task_id: TaskId,
    *,
    wait_for: Annotated[
        float,
        typer.Option(
            "--for",
            metavar="SECONDS",
            callback=seconds_or_zero,
            help="Give up after SECONDS (exit 7, the task keeps running); 0 waits until it ends.",
        ),
    ] = 0.0,
    json_output: JsonFlag = False,
    client: ClientOptions,
) -> None:
    """Wait for a task to end, showing its status as it changes, then print its result.

    Polls tasks/get at the interval the server asks for (pollIntervalMs).
    """
    _get_or_wait(client, task_id, wait=True, wait_for=wait_for, json_output=json_output)


@task_app.command("cancel")
@with_transport_options
@with_client_options
def task_cancel(task_id: TaskId, *, json_output: JsonFlag = False, client: ClientOptions) -> None:
    """Ask the server to cancel a task. Cancelling is cooperative: the task may still complete."""
    from asyncmcp_cli.cli.connect.commands import run_with_client
    from asyncmcp_cli.tasks.client import cancel_task

    task_id, client = _handle(task_id, client)

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> None:
        with activity.running(f"cancelling task {task_id}"):
            await cancel_task(mcp, task_id)

    run_with_client(client, body)
    if json_output:
        print_json({"taskId": task_id, "cancelRequested": True})
    else:
        err_console.print(f"cancellation of task {safe_text.markup(task_id)} requested", highlight=False)


@task_app.command("update")
@with_transport_options
@with_client_options
def task_update(
    task_id: TaskId,
    responses: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KEY=JSON]...",
            help='Answers to the task\'s input requests, by their key: name=\'{"action": "accept", '
            '"content": {"name": "Ada"}}\'.',
            show_default=False,
        ),
    ] = None,
    *,
    responses_json: Annotated[
        str | None, typer.Option("--responses-json", help="All answers as one JSON object keyed like inputRequests.")
    ] = None,
    json_output: JsonFlag = False,
    client: ClientOptions,
) -> None:
    """Answer the input requests of a task in input_required (see them with `task get`)."""
    from asyncmcp_cli.cli.connect.commands import run_with_client
    from asyncmcp_cli.tasks.client import update_task

    task_id, client = _handle(task_id, client)
    answers = _input_responses(responses or [], responses_json)

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> None:
        with activity.running(f"answering task {task_id}"):
            await update_task(mcp, task_id, answers)

    run_with_client(client, body)
    if json_output:
        print_json({"taskId": task_id, "answered": sorted(answers)})
    else:
        err_console.print(
            f"answered {', '.join(safe_text.markup(key) for key in sorted(answers))} of task "
            f"{safe_text.markup(task_id)}",
            highlight=False,
        )


def _input_responses(pairs: list[str], as_json: str | None) -> dict[str, Any]:
    """KEY=JSON words over a --responses-json object; every answer must be a JSON object."""
    answers: dict[str, Any] = {}
    try:
        if as_json:
            loaded = json.loads(as_json)
            if not isinstance(loaded, dict):
                raise fail("--responses-json must be a JSON object keyed like the task's inputRequests", ExitCode.USAGE)
            answers.update(loaded)
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise fail(f"not KEY=JSON: {pair!r}", ExitCode.USAGE)
            answers[key] = json.loads(value)
    except json.JSONDecodeError as exc:
        raise fail(f"not JSON: {exc}", ExitCode.USAGE) from None
    if not answers:
        raise fail("give at least one answer (KEY=JSON or --responses-json)", ExitCode.USAGE)
    for key, value in answers.items():
        if not isinstance(value, dict):
            raise fail(
                f"the answer to {key!r} must be a JSON object (an elicitation or sampling result)", ExitCode.USAGE
            )
    return answers
