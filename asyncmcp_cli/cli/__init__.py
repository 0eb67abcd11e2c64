"""The `asyncmcp` command line: thin Typer commands over the library.

Each command is imported only when it runs (`asyncmcp_cli.cli.lazy`), and
nothing here imports the SDK, boto3 or anyio, so ``--help`` and shell
completion stay quick.
"""

from __future__ import annotations

import typer

from asyncmcp_cli import __version__
from asyncmcp_cli.cli import rich_help
from asyncmcp_cli.cli.lazy import HELP_OPTION_NAMES, LazyGroup, defer_coercion

defer_coercion()
rich_help.install()

app = typer.Typer(
    name="asyncmcp",
    cls=LazyGroup,
    help="Run MCP servers and clients over asynchronous channels: SQS, SNS+SQS, webhooks.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": HELP_OPTION_NAMES},
    pretty_exceptions_enable=False,
    add_completion=False,  # declared below, as flags that default to False: Typer's load pydantic on every run
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"asyncmcp {__version__}")
        raise typer.Exit()


def _install_completion(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from typer.completion import completion_init, install_callback

        completion_init()
        install_callback(ctx, param, value)


def _show_completion(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from typer.completion import completion_init, show_callback

        completion_init()
        show_callback(ctx, param, value)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    install_completion: bool = typer.Option(
        False,
        "--install-completion",
        callback=_install_completion,
        expose_value=False,
        help="Install completion for the current shell.",
    ),
    show_completion: bool = typer.Option(
        False,
        "--show-completion",
        callback=_show_completion,
        expose_value=False,
        help="Show completion for the current shell, to copy it or customize the installation.",
    ),
) -> None:
    """Run MCP servers and clients over asynchronous channels: SQS, SNS+SQS, webhooks."""
    from asyncmcp_cli import tracing  # light: the SDK is imported only if OTEL_* variables ask for traces

    tracing.configure_from_environment()


def main() -> None:
    app()
