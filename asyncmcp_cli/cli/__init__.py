"""The `asyncmcp` command line: thin Typer commands over the library."""

from __future__ import annotations

import typer

from asyncmcp_cli import __version__
from asyncmcp_cli.cli import bench, connect, local, quickstart, serve
from asyncmcp_cli.cli import provision as provision_command
from asyncmcp_cli.cli import proxy as proxy_command
from asyncmcp_cli.cli import tail as tail_command

app = typer.Typer(
    name="asyncmcp",
    help="Run MCP servers and clients over asynchronous channels: SQS, SNS+SQS, webhooks.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"asyncmcp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Run MCP servers and clients over asynchronous channels: SQS, SNS+SQS, webhooks."""
    from asyncmcp_cli import tracing  # light: the SDK is imported only if OTEL_* variables ask for traces

    tracing.configure_from_environment()


serve.register(app)
connect.register(app)
proxy_command.register(app)
local.register(app)
quickstart.register(app)
bench.register(app)
provision_command.register(app)
tail_command.register(app)


def main() -> None:
    app()
