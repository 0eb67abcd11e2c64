"""The `connect` command group and its help text (exit codes included)."""

from __future__ import annotations

import typer

from asyncmcp_cli.cli._common import EXIT_CODES_HELP

EXIT_CODES = (
    EXIT_CODES_HELP.split(" · 7 ")[0]
    + " · 7 not answered yet (collect), still running (task) · 8 gone: already collected here or expired"
    " (collect), cancelled, unknown or expired (task) · 130 cancelled with Ctrl-C."
)

HELP = (
    "An MCP client over any transport, and against ordinary MCP servers (--stdio COMMAND, or an http(s) URL "
    "as --transport).\n\n"
    "One-shot: tools, schema, call, resources, templates, read, prompts, prompt; ping, raw METHOD.\n\n"
    "Interactive: connect -i (Tab completion, history across runs, Ctrl-C cancels the running call).\n\n"
    "Fire now, collect later: call --no-wait prints a receipt; collect RECEIPT prints the answer once it is there, "
    "from any process or machine that reaches the reply queue.\n\n"
    "Tasks: call --task starts a tool call as a task and prints its handle; task get|wait|cancel|update TASK "
    "follows it later, from any process.\n\n"
    f"{EXIT_CODES}"
)

connect_app = typer.Typer(name="connect", help=HELP, rich_markup_mode="rich")
