"""How a task looks on the terminal: one status line on stderr, then what it ended with.

A completed task prints its tool result on stdout, as `connect call` would; a
failed one its JSON-RPC error; an ``input_required`` one the requests it waits
on, keyed as `task update` wants them. Everything comes from the server and
goes through `safe_text` before it reaches markup.
"""

from __future__ import annotations

from rich.console import Console

from asyncmcp_cli.cli.connect import render
from asyncmcp_cli.protocol.safe_text import json_view, markup
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.client import TaskError, call_result_of

_STYLES = {
    wire.WORKING: "cyan",
    wire.INPUT_REQUIRED: "yellow",
    wire.COMPLETED: "green",
    wire.FAILED: "bold red",
    wire.CANCELLED: "yellow",
}


def status_line(task: wire.Task) -> str:
    """``task ID: STATUS · message · updated TIME`` as markup."""
    style = _STYLES.get(task.status, "")
    line = f"task {markup(task.task_id)}: [{style}]{markup(task.status)}[/]"
    if task.status_message:
        line += f" · {markup(task.status_message)}"
    return line + f" [dim]· updated {markup(task.last_updated_at)}[/]"


def print_task(task: wire.GetTaskResult, console: Console, err_console: Console) -> None:
    err_console.print(status_line(task), highlight=False, soft_wrap=True)
    if task.status == wire.COMPLETED:
        try:
            render.print_call_result(call_result_of(task), console, err_console)
        except TaskError as exc:
            err_console.print(f"[bold red]error:[/] {markup(exc)}", highlight=False, soft_wrap=True)
            console.print(json_view(task.result), soft_wrap=True)
    elif task.status == wire.FAILED:
        error = task.error or {}
        code, message = error.get("code"), error.get("message")
        err_console.print(
            f"[bold red]failed with error {markup(code)}:[/] {markup(message or 'no message')}",
            highlight=False,
            soft_wrap=True,
        )
    elif task.status == wire.INPUT_REQUIRED:
        err_console.print(
            "the task waits for input; answer with: asyncmcp connect task update TASK_ID KEY='{...}'",
            highlight=False,
        )
        console.print(json_view(task.input_requests or {}), soft_wrap=True)
