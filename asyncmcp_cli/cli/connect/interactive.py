"""`asyncmcp connect --interactive`: the REPL, started from the group's own options."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from asyncmcp_cli.cli._common import ExitCode, console, fail, run, setup_logging, with_transport_options
from asyncmcp_cli.cli.connect.app import connect_app
from asyncmcp_cli.cli.connect.options import ClientOptions, with_client_options


@connect_app.callback(invoke_without_command=True)
@with_transport_options
@with_client_options
def connect_main(
    ctx: typer.Context,
    *,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive",
            "-i",
            help="Open a REPL on one connection: Tab completes commands, tools and arguments; history is kept "
            "across runs; Ctrl-C cancels the running call; Ctrl-D leaves.",
        ),
    ] = False,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            envvar="ASYNCMCP_HISTORY",
            help="REPL history file (default: $XDG_STATE_HOME/asyncmcp/history, else ~/.local/state/asyncmcp/history).",
            show_default=False,
        ),
    ] = None,
    client: ClientOptions,
) -> None:
    if ctx.invoked_subcommand is not None:
        if interactive:
            raise fail("--interactive opens a REPL; it takes no subcommand", ExitCode.USAGE)
        given = [
            name for name in ctx.params if name not in ("interactive", "history") and _from_command_line(ctx, name)
        ]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise fail(
                f"put options after the subcommand: asyncmcp connect {ctx.invoked_subcommand} {flag} ...",
                ExitCode.USAGE,
            )
        return
    if not interactive:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    run_repl(client, history)


def run_repl(client: ClientOptions, history: Path | None) -> None:
    from rich.markup import escape

    from asyncmcp_cli.cli.connect.activity import Activity
    from asyncmcp_cli.cli.connect.repl import Repl, default_history_path
    from asyncmcp_cli.cli.connect.tasks import own_client_id
    from asyncmcp_cli.protocol.catalog import Catalog
    from asyncmcp_cli.targets import open_target

    client = own_client_id(client)  # known up front, so `task start` can print a handle naming it
    setup_logging(client.log_level)
    activity = Activity(console, quiet=client.quiet)

    async def main() -> int:
        target = client.target()
        async with open_target(target, **client.client_kwargs(), **activity.client_callbacks()) as mcp:
            await client.ask_for_server_log(mcp)
            catalog = Catalog(mcp)
            activity.on_change = catalog.forget  # listed again before the next prompt
            banner = (
                f"[green]connected[/] to {escape(target.label())} · protocol {escape(str(mcp.protocol_version))} · "
                "type [bold]help[/], Tab completes, Ctrl-C cancels a call, Ctrl-D leaves"
            )
            repl = Repl(
                mcp,
                catalog,
                activity,
                console,
                history=history or default_history_path(),
                banner=banner,
                client_id=client.client_id,
            )
            await repl.run()
            return repl.exit_code

    exit_code = run(main)
    if exit_code and not sys.stdin.isatty():  # a script learns that a line failed; a person saw it
        raise typer.Exit(exit_code)


def _from_command_line(ctx: typer.Context, name: str) -> bool:
    """Whether an option was typed (not defaulted or read from the environment).

    Compared by name: Typer carries its own copy of Click's `ParameterSource`.
    """
    source = ctx.get_parameter_source(name)
    return getattr(source, "name", None) == "COMMANDLINE"
