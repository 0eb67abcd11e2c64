"""`asyncmcp proxy`: let ordinary MCP clients (HTTP or a desktop host on stdio) use a server behind a transport."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from asyncmcp_cli.cli._common import (
    ExitCode,
    LogFormat,
    LogFormatOption,
    LogLevel,
    MetricsOption,
    TransportOptions,
    err_console,
    fail,
    observing,
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
            help="Seconds to wait for the backend's answer (or to reach it); after that the client gets a "
            "JSON-RPC error.",
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
    metrics: MetricsOption = None,
    log_level: LogLevel = "info",
    log_format: LogFormatOption = LogFormat.rich,
    options: TransportOptions,
) -> None:
    """Proxy ordinary MCP clients to a server behind an asynchronous transport.

    Each client gets its own client id on the transport: its answers never reach another client.
    Runs until Ctrl-C or SIGTERM; with --stdio, until the host closes stdin. With --stdio the proxy
    answers `initialize` itself at once and reaches the backend in the background: a backend that
    cannot be reached gives the first request a JSON-RPC error naming the cause.
    """
    setup_logging(log_level, log_format.value)
    if stdio and listen:
        raise fail("choose --listen (HTTP) or --stdio, not both", ExitCode.USAGE)
    if timeout <= 0:
        raise fail("--timeout must be a positive number of seconds", ExitCode.USAGE)
    if stdio:
        _proxy_stdio(options, timeout, metrics)
        return
    from asyncmcp_cli import proxy as library

    async def main() -> None:
        transport = options.resolve()
        front = library.HttpFrontOptions(
            listen=listen or library.DEFAULT_LISTEN,
            token=token or None,
            cors_origins=tuple(cors_origin or ()),
            max_body_bytes=max_body_bytes,
        )
        described = ", ".join(f"{k}={v}" for k, v in transport.describe().items())

        async with observing(metrics, transport.scheme, worker_index=0) as bound:

            def ready(url: str) -> None:
                if log_format is LogFormat.json:
                    return  # logged as a JSON line instead; stderr stays JSON only
                auth = " · bearer token required" if token else ""
                where = f" · metrics {bound.url('/metrics')}" if bound else ""
                err_console.print(
                    f"[green]proxy[/] {url} → {described}{auth}{where} · Ctrl-C to stop",
                    highlight=False,
                    soft_wrap=True,
                )

            await library.serve_http_until_signalled(transport, options=front, call_timeout=timeout, on_ready=ready)

    run(main)


def _proxy_stdio(options: TransportOptions, timeout: float, metrics: str | None) -> None:
    """Answer the host's ``initialize`` first, then load the SDK and the transport.

    A host sends ``initialize`` as soon as it has started the proxy, so the
    line is there to read at once; loading first (over a second of CPU for the
    SDK alone) would keep the host waiting, and loading alongside on a thread
    would still slow the answer down by competing for the interpreter.
    """
    import sys

    from asyncmcp_cli.proxy.early import answer_initialize, load_identity

    key = _identity_key(options)
    loaded: dict[str, Any] = {}

    def load() -> None:
        try:
            import asyncmcp_cli.proxy.stdio  # noqa: F401  (the SDK: the bulk of the start-up time)

            loaded["transport"] = options.resolve()
        except BaseException as exc:  # raised inside `run`, which reports it like any other
            loaded["error"] = exc

    first = answer_initialize(sys.stdin.buffer, sys.stdout.buffer, load_identity(key))
    load()

    async def main() -> None:
        from asyncmcp_cli.observability.recorder import current
        from asyncmcp_cli.proxy.stdio import serve_stdio

        if "error" in loaded:
            raise loaded["error"]
        transport = loaded["transport"]
        async with observing(metrics, transport.scheme, worker_index=0):
            current().intake.listening()
            await serve_stdio(transport, call_timeout=timeout, first=first, identity_key=key, on_stdin_closed=_exit_now)

    run(main)


def _identity_key(options: TransportOptions) -> str:
    """Names the backend this configuration reaches, for remembering its identity (see `proxy.early`)."""
    import hashlib
    import json
    from dataclasses import asdict

    described = asdict(options) | {"from_command_line": None, "webhook_secret": None}
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _exit_now() -> None:
    """End the process as soon as the host has closed stdin and been sent everything.

    Measured: taking the backend lanes down is quick, but a lane still
    connecting to an endpoint that does not answer sits in a blocking call for
    up to a minute, and the interpreter's own teardown with the SDK and boto3
    loaded takes about a second on a busy machine. A host waits for the
    process to end (to restart it, or to quit), so nothing is left to do that
    is worth that wait: the backend keeps no state for a client that left, and
    long polls in flight end with their threads as they would at any exit.
    """
    import contextlib
    import logging
    import os
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(0)
