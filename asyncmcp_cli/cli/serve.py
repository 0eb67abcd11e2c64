"""`asyncmcp serve`: run an MCP server over an asynchronous transport."""

from __future__ import annotations

import logging
from enum import Enum
from typing import Annotated, Any

import typer

from asyncmcp_cli.cli._common import (
    LogFormat,
    LogFormatOption,
    LogLevel,
    MetricsOption,
    TransportOptions,
    err_console,
    observing,
    run,
    seconds,
    seconds_or_zero,
    setup_logging,
    with_transport_options,
)
from asyncmcp_cli.cli._upstream import UpstreamCommand, chosen_server, parse_headers, upstream_argv
from asyncmcp_cli.protocol import safe_text


class UpstreamSessions(str, Enum):
    per_client = "per-client"
    shared = "shared"


def register(app: typer.Typer) -> None:
    app.command("serve", cls=UpstreamCommand)(serve)


@with_transport_options
def serve(
    app_ref: Annotated[
        str | None,
        typer.Argument(
            metavar="APP",
            help="The server to run: 'module:attr' or 'file.py:attr' naming an MCPServer or low-level Server. "
            "Without it, the built-in demo server (echo, add, sleep, fail).",
        ),
    ] = None,
    *,
    ctx: typer.Context,
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
        float,
        typer.Option(callback=seconds_or_zero, help="On SIGINT/SIGTERM, seconds to let running requests finish."),
    ] = 30.0,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Address the HTTP server binds (webhook, http+webhook). [default: 127.0.0.1]",
            rich_help_panel="Webhook",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help="Port the HTTP server binds (webhook, http+webhook); 0 picks a free one. [default: 8000]",
            rich_help_panel="Webhook",
        ),
    ] = None,
    allow_webhook: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-webhook",
            metavar="URL_PATTERN",
            help="Webhook URLs the server may POST to (repeatable), e.g. 'https://*.example.com'. Private, "
            "loopback and link-local hosts are refused unless named literally, e.g. 'http://127.0.0.1:*'. "
            "[default: https://*]",
            rich_help_panel="Webhook",
        ),
    ] = None,
    webhook_tool: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook-tool",
            metavar="NAME",
            help="http+webhook: a tool that answers by webhook instead of on the HTTP request (repeatable).",
            rich_help_panel="Webhook",
        ),
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option(
            "--upstream",
            metavar="URL|NAME",
            help="Serve the existing streamable HTTP MCP server at URL instead of an APP, or the server NAME "
            "in the --config file (a command or a URL).",
            rich_help_panel="Upstream",
        ),
    ] = None,
    upstream_header: Annotated[
        list[str] | None,
        typer.Option(
            "--upstream-header",
            metavar="'NAME: VALUE'",
            help="HTTP header to send to the --upstream server (repeatable), e.g. 'Authorization: Bearer ...'.",
            rich_help_panel="Upstream",
        ),
    ] = None,
    upstream_timeout: Annotated[
        float | None,
        typer.Option(
            "--upstream-timeout",
            callback=seconds,
            help="Seconds to wait for the upstream server's answer before the client gets a JSON-RPC error. "
            "[default: no limit]",
            rich_help_panel="Upstream",
        ),
    ] = None,
    upstream_sessions: Annotated[
        UpstreamSessions,
        typer.Option(
            "--upstream-sessions",
            help="per-client: a client that declares sampling, elicitation or roots gets an upstream session "
            "(for a COMMAND, a process) of its own, initialized with its capabilities; the other clients share "
            "one. shared: every client shares one session, which declares sampling and elicitation for all.",
            rich_help_panel="Upstream",
        ),
    ] = UpstreamSessions.per_client,
    upstream_max_sessions: Annotated[
        int,
        typer.Option(
            "--upstream-max-sessions",
            min=1,
            help="per-client: upstream sessions open at once; the least recently used idle one is closed to "
            "make room, and a client finding all of them busy gets a JSON-RPC error.",
            rich_help_panel="Upstream",
        ),
    ] = 8,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes sharing the request queue, each with its own event loop; a worker that dies "
            "is restarted. Unless a result cache is configured, they share one in a temporary SQLite file.",
        ),
    ] = 1,
    metrics: MetricsOption = None,
    task_tool: Annotated[
        list[str] | None,
        typer.Option(
            "--task-tool",
            metavar="NAME[=required]",
            help="A tool that runs as a task for callers that declare the tasks extension (repeatable); "
            "'=required' refuses the others (-32021). Tools may also declare it themselves.",
            rich_help_panel="Tasks",
        ),
    ] = None,
    task_store: Annotated[
        str | None,
        typer.Option(
            "--task-store",
            metavar="URL",
            envvar="ASYNCMCP_TASK_STORE",
            help="Where tasks live: memory, sqlite:///PATH, or s3://BUCKET/PREFIX (shared by every server "
            "process on the queue, so any of them answers tasks/get and tasks/cancel). Default: the profile's "
            "bucket when it has one, else one SQLite file shared by --workers, else memory.",
            rich_help_panel="Tasks",
        ),
    ] = None,
    task_ttl: Annotated[
        float,
        typer.Option(
            "--task-ttl",
            callback=seconds_or_zero,
            help="Seconds a task is kept after it was created (its ttlMs); 0: no limit.",
            rich_help_panel="Tasks",
        ),
    ] = 3600.0,
    task_poll_interval: Annotated[
        float,
        typer.Option(
            "--task-poll-interval",
            callback=seconds,
            help="Seconds between tasks/get polls the server suggests (its pollIntervalMs).",
            rich_help_panel="Tasks",
        ),
    ] = 1.0,
    task_lease: Annotated[
        float,
        typer.Option(
            "--task-lease",
            callback=seconds,
            help="A server renews its claim on each task it runs every third of this; a task whose server "
            "stopped renewing for this long is reported failed.",
            rich_help_panel="Tasks",
        ),
    ] = 30.0,
    log_level: LogLevel = "info",
    log_format: LogFormatOption = LogFormat.rich,
    options: TransportOptions,
) -> None:
    """Serve an MCP server over a transport until Ctrl-C or SIGTERM.

    The server is an APP, the built-in demo, an existing stdio MCP server given
    as `-- COMMAND ARGS...` (restarted with backoff if it dies), or an existing
    streamable HTTP MCP server given as `--upstream URL`, unchanged.

    On shutdown the server stops receiving, lets running requests finish within
    the grace period, and leaves the rest on the queue for another server.
    """
    import os
    import sys

    from asyncmcp_cli.workers import supervisor

    setup_logging(log_level, log_format.value)
    if workers > 1:
        raise typer.Exit(supervisor.supervise(workers, sys.argv[1:], grace_seconds=grace_period))
    from asyncmcp_cli.server import serve_until_signalled

    index = supervisor.worker_index()
    shared_cache = os.environ.get(supervisor.WORKER_RESULT_CACHE_ENV)
    if shared_cache:
        supervisor.stop_with_parent()

    async def main() -> None:
        async with chosen_server(
            app_ref,
            command=upstream_argv(ctx),
            upstream_url=upstream,
            upstream_headers=parse_headers(upstream_header),
            upstream_timeout=upstream_timeout,
            upstream_sessions=upstream_sessions.value,
            upstream_max_sessions=upstream_max_sessions,
            config=options.config,
        ) as server:
            await serve_it(server)

    async def serve_it(server: Any) -> None:
        from asyncmcp_cli.tasks.config import TaskOptions, with_tasks

        settings = options.settings()
        task_options = TaskOptions(
            store=task_store or default_task_store(options.profile, options.transport),
            tools=tuple(task_tool or ()),
            ttl_seconds=task_ttl,
            poll_interval_seconds=task_poll_interval,
            lease_seconds=task_lease,
        )
        server = with_tasks(
            server, task_options, endpoint_url=settings.get("endpoint_url"), region=settings.get("region")
        )
        transport = options.resolve(
            allow_reply=tuple(allow_reply) if allow_reply else None,
            visibility_timeout=visibility_timeout,
            max_in_flight=max_in_flight,
            host=host,
            port=port,
            allow_webhook=tuple(allow_webhook) if allow_webhook else None,
            webhook_tools=tuple(webhook_tool) if webhook_tool else None,
            fallback={"result_cache": shared_cache},  # the workers' shared file, unless one is configured
        )
        async with observing(metrics, transport.scheme, worker_index=index) as bound:

            def ready() -> None:
                if log_format is LogFormat.json:  # the same, as a JSON line: stderr stays JSON only
                    logging.getLogger("asyncmcp_cli.server").info("serving %s", transport.describe())
                    return
                described = ", ".join(f"{k}={v}" for k, v in transport.describe().items())  # after binding
                name = safe_text.markup(server.name)  # an upstream server names itself
                where = f" · metrics {bound.url('/metrics')}" if bound else ""
                err_console.print(f"[green]serving[/] {name} · {described}{where} · Ctrl-C to stop", highlight=False)

            await serve_until_signalled(server, transport, grace_seconds=grace_period, on_ready=ready)

    run(main)


def default_task_store(profile_name: str | None, transport: str) -> str:
    """Where tasks live when ``--task-store`` is not given: somewhere every worker reaches.

    The profile's bucket first (any worker on any machine; only for a transport the profile
    configures, whose endpoint is the bucket's), then the SQLite file the ``--workers`` parent
    shares with its workers, then this process's memory.
    """
    import os

    from asyncmcp_cli import profiles
    from asyncmcp_cli.workers import supervisor

    profile = profiles.load(profile_name)
    configured = profile is not None and transport.split("://", 1)[0] in profile.transports
    shared = profile.shared_task_store() if configured else None
    return shared or os.environ.get(supervisor.WORKER_TASK_STORE_ENV) or "memory"
