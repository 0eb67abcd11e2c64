"""`asyncmcp proxy`: let ordinary MCP clients (HTTP or a desktop host on stdio) use a server behind a transport."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncmcp_cli.cli._common import (
    ExitCode,
    LogLevel,
    TransportOptions,
    err_console,
    fail,
    run,
    setup_logging,
    with_transport_options,
)

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def register(app: typer.Typer) -> None:
    app.command("proxy")(proxy)


@with_transport_options
def proxy(
    *,
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            metavar="URL",
            help="Where MCP clients connect (streamable HTTP). Port 0 picks a free one; a non-loopback host "
            "makes the proxy reachable from other machines. [default: http://127.0.0.1:8080/mcp]",
        ),
    ] = None,
    stdio: Annotated[
        bool,
        typer.Option(
            "--stdio",
            help="Serve one MCP host on stdin/stdout instead (for desktop hosts that start servers as a command).",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            envvar="ASYNCMCP_PROXY_TIMEOUT",
            help="Seconds to wait for the backend's answer; after that the client gets a JSON-RPC error.",
        ),
    ] = 120.0,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="ASYNCMCP_PROXY_TOKEN",
            help="Bearer token HTTP clients must send (Authorization: Bearer ...). Prefer the environment "
            "variable: a flag shows in the process list. /health stays open.",
            show_default=False,
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            metavar="ORIGIN",
            help="Browser origin allowed to call the proxy (repeatable), e.g. http://localhost:6274.",
        ),
    ] = None,
    max_body_bytes: Annotated[
        int,
        typer.Option("--max-body-bytes", help="Largest HTTP request body accepted; larger ones get 413."),
    ] = DEFAULT_MAX_BODY_BYTES,
    log_level: LogLevel = "info",
    options: TransportOptions,
) -> None:
    """Proxy ordinary MCP clients to a server behind an asynchronous transport.

    Each client gets its own client id on the transport: its answers never reach another client.
    Runs until Ctrl-C or SIGTERM; with --stdio, until the host closes stdin.
    """
    from asyncmcp_cli import proxy as library

    setup_logging(log_level)
    if stdio and listen:
        raise fail("choose --listen (HTTP) or --stdio, not both", ExitCode.USAGE)
    if timeout <= 0:
        raise fail("--timeout must be a positive number of seconds", ExitCode.USAGE)

    async def main() -> None:
        transport = options.resolve()
        if stdio:
            await library.serve_stdio(transport, call_timeout=timeout)
            return
        front = library.HttpFrontOptions(
            listen=listen or library.DEFAULT_LISTEN,
            token=token or None,
            cors_origins=tuple(cors_origin or ()),
            max_body_bytes=max_body_bytes,
        )
        described = ", ".join(f"{k}={v}" for k, v in transport.describe().items())

        def ready(url: str) -> None:
            auth = " · bearer token required" if token else ""
            err_console.print(
                f"[green]proxy[/] {url} → {described}{auth} · Ctrl-C to stop", highlight=False, soft_wrap=True
            )

        await library.serve_http_until_signalled(transport, options=front, call_timeout=timeout, on_ready=ready)

    run(main)
