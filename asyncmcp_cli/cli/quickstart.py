"""`asyncmcp demo`: the whole path in one command, no AWS account needed."""

from __future__ import annotations

import typer

from asyncmcp_cli.cli._common import ExitCode, console, run, setup_logging


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo() -> None:
    """Start a local AWS endpoint, serve the demo MCP server over SQS, call a tool, print the result."""
    from asyncmcp_cli.quickstart import run_quickstart

    setup_logging("warning")

    def step(text: str) -> None:
        console.print(f"[green]✓[/] {text}", highlight=False)

    outcome = run(lambda: run_quickstart(step))
    text = " ".join(getattr(block, "text", "") for block in outcome.result.content)
    args = ", ".join(f"{k}={v}" for k, v in outcome.arguments.items())
    console.print(f"[green]✓[/] tools/call {outcome.tool}({args}) over SQS → [bold]{text}[/]", highlight=False)
    if outcome.result.is_error:
        raise typer.Exit(int(ExitCode.TOOL_ERROR))
