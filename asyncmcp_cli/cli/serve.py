"""`asyncmcp serve`: run an MCP server over an asynchronous transport."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncmcp_cli.cli._common import (
    LogLevel,
    TransportOptions,
    err_console,
    run,
    setup_logging,
    with_transport_options,
)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


@with_transport_options
def serve(
    app_ref: Annotated[
        str | None,
        typer.Argument(
            metavar="[APP]",
            help="The server to run: 'module:attr' or 'file.py:attr' naming an MCPServer or low-level Server. "
            "Without it, the built-in demo server (echo, add, sleep, fail).",
        ),
    ] = None,
    *,
    allow_reply: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-reply",
            envvar="ASYNCMCP_ALLOW_REPLY",
            help="Glob of reply addresses the server may write to (repeatable). A bare pattern matches queue "
            "names at the server's own endpoint and account; a URL pattern matches whole URLs. "
            "[default: asyncmcp-*]",
        ),
    ] = None,
    visibility_timeout: Annotated[
        int | None,
        typer.Option(help="Seconds a received request stays hidden; extended while it runs. [default: 30]"),
    ] = None,
    max_in_flight: Annotated[
        int | None, typer.Option(help="Requests running at once before the server stops receiving. [default: 64]")
    ] = None,
    grace_period: Annotated[
        float, typer.Option(help="On SIGINT/SIGTERM, seconds to let running requests finish.")
    ] = 30.0,
    log_level: LogLevel = "info",
    options: TransportOptions,
) -> None:
    """Serve an MCP server over a transport until Ctrl-C or SIGTERM.

    On shutdown the server stops receiving, lets running requests finish within
    the grace period, and leaves the rest on the queue for another server.
    """
    from asyncmcp_cli.apps import as_lowlevel, load_server
    from asyncmcp_cli.server import serve_until_signalled

    setup_logging(log_level)

    async def main() -> None:
        if app_ref:
            server = load_server(app_ref)
        else:
            from asyncmcp_cli.demo import demo

            server = as_lowlevel(demo)
        transport = options.resolve(
            allow_reply=tuple(allow_reply) if allow_reply else None,
            visibility_timeout=visibility_timeout,
            max_in_flight=max_in_flight,
        )
        described = ", ".join(f"{k}={v}" for k, v in transport.describe().items())

        def ready() -> None:
            err_console.print(f"[green]serving[/] {server.name} · {described} · Ctrl-C to stop", highlight=False)

        await serve_until_signalled(server, transport, grace_seconds=grace_period, on_ready=ready)

    run(main)
