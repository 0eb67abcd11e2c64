"""`asyncmcp bench`: measure the SQS transport on the endpoint you point it at."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from asyncmcp_cli.cli._common import JsonFlag, console, err_console, print_json, run, setup_logging


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


def bench(
    *,
    local: Annotated[
        bool, typer.Option("--local", help="Start an embedded moto endpoint for the run instead of using yours.")
    ] = False,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="AWS endpoint; unset for AWS.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", envvar="AWS_REGION", help="AWS region.")] = None,
    long: Annotated[
        bool,
        typer.Option(
            "--long",
            help="The fuller run (several minutes): 200 calls per figure, 40 in flight per client, a 30 s idle "
            "watch, 1000 idle sessions. Without it the run takes about a minute.",
        ),
    ] = False,
    calls: Annotated[
        int | None, typer.Option(help="Calls per measurement. [default: 50; 200 with --long]", show_default=False)
    ] = None,
    clients: Annotated[int | None, typer.Option(help="Clients driving the load test. [default: 4]")] = None,
    in_flight: Annotated[
        int | None,
        typer.Option(help="Calls in flight per client in the load test. [default: 20; 40 with --long]"),
    ] = None,
    idle_seconds: Annotated[
        float | None,
        typer.Option(help="How long to watch an idle server's API requests. [default: 10; 30 with --long]"),
    ] = None,
    idle_sessions: Annotated[
        int | None,
        typer.Option(help="Client sessions to open for the memory measurement. [default: 200; 1000 with --long]"),
    ] = None,
    idle_wait: Annotated[
        float | None,
        typer.Option(
            "--idle-wait",
            metavar="SECONDS",
            help="How long to wait for the idle sessions' answers; fewer answered is reported. [default: 120]",
        ),
    ] = None,
    shapes: Annotated[
        bool,
        typer.Option(
            "--shapes",
            help="Measure the load shapes instead (1x50, 5x10, 4 processes x 40, 1/2/4 workers, idle), "
            "each side in its own processes; --calls is per shape.",
        ),
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Measure the SQS transport where you point it: latency against the raw floor, throughput, cost.

    Prints tools/call latency against the raw boto3 two-hop floor, throughput, SQS requests per
    call, idle requests per minute and memory per idle session, measured on temporary queues that
    are deleted afterwards. Against real AWS this makes real (billable, if small) SQS requests.
    A figure it could not reach (idle sessions not answered in time) is reported as such.
    """
    import dataclasses
    from contextlib import nullcontext

    from asyncmcp_cli import aws
    from asyncmcp_cli.aws.local_aws import local_endpoint_process
    from asyncmcp_cli.bench import LONG, BenchSettings, run_bench

    setup_logging("warning")
    if shapes:
        _bench_shapes(local, endpoint_url, region, calls or 200, idle_seconds or 30.0, json_output)
        return
    given = {"calls": calls, "clients": clients, "in_flight": in_flight}
    given |= {"idle_seconds": idle_seconds, "idle_sessions": idle_sessions, "idle_sessions_wait": idle_wait}
    options = dataclasses.replace(
        LONG if long else BenchSettings(), **{k: v for k, v in given.items() if v is not None}
    )
    with local_endpoint_process() if local else nullcontext() as endpoint:
        settings = aws.AwsSettings(endpoint_url=endpoint.url if endpoint else endpoint_url, region=region)
        with _progress(enabled=not json_output) as progress:
            report = run(lambda: run_bench(settings, options, progress))
    if json_output:
        print_json(report.as_dict())
        return
    _print_table(report, settings, options)


def _progress(*, enabled: bool) -> Any:
    """Rich progress bars on stderr, one per phase, each advancing per call (nothing for --json)."""
    from contextlib import nullcontext

    if not enabled:
        return nullcontext(None)
    from asyncmcp_cli.cli.bench_progress import PhaseBars

    return PhaseBars(err_console)


def _print_table(report: Any, settings: Any, options: Any) -> None:
    from rich.table import Table

    from asyncmcp_cli.bench import TARGETS

    clients, in_flight = options.clients, options.in_flight
    floor, call = report.floor_ms, report.tools_call_ms
    table = Table(title=f"asyncmcp bench · SQS at {settings.resolved_endpoint or 'AWS ' + settings.resolved_region}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row(
        "raw two-hop floor p50 / p95 / p99 (ms)", f"{floor['p50']:.1f} / {floor['p95']:.1f} / {floor['p99']:.1f}", ""
    )
    table.add_row("tools/call p50 / p95 / p99 (ms)", f"{call['p50']:.1f} / {call['p95']:.1f} / {call['p99']:.1f}", "")
    memory = report.in_memory_call_ms
    table.add_row("  of which the SDK: tools/call in memory p50 (ms)", f"{memory['p50']:.1f}", "", style="dim")
    table.add_row(
        "latency ratio (p50 ÷ floor)",
        f"{report.latency_ratio:.2f}x",
        _target(report.latency_ratio, "latency_ratio", TARGETS),
    )
    table.add_row("SQS requests per call, one at a time", f"{report.requests_per_call_sequential:.2f}", "")
    table.add_row(
        f"throughput, {clients} clients x {in_flight} in flight (calls/s)",
        f"{report.throughput_calls_per_second:.0f}",
        "",
    )
    table.add_row(
        "SQS requests per call under load",
        f"{report.requests_per_call_under_load:.2f}",
        _target(report.requests_per_call_under_load, "requests_per_call_under_load", TARGETS),
    )
    table.add_row(
        "idle SQS requests per minute per poller",
        f"{report.idle_requests_per_minute:.1f}",
        _target(report.idle_requests_per_minute, "idle_requests_per_minute", TARGETS),
    )
    short = report.idle_sessions < report.idle_sessions_requested
    table.add_row(
        f"server memory for {report.idle_sessions} idle sessions"
        + (f" [yellow](of {report.idle_sessions_requested} requested)[/]" if short else ""),
        f"{report.memory_for_idle_sessions_mib:.1f} MiB ({report.memory_per_idle_session_kib:.0f} KiB each)",
        "",
    )
    console.print(table)
    for shortfall in report.shortfalls:
        err_console.print(f"[yellow]not reached:[/] {shortfall}", highlight=False, soft_wrap=True)


def _target(value: float, name: str, targets: dict[str, float]) -> str:
    limit = targets[name]
    mark = "[green]✓[/]" if value <= limit else "[yellow]✗[/]"
    return f"≤ {limit:g} {mark}"


def _bench_shapes(
    local: bool, endpoint_url: str | None, region: str | None, calls: int, idle_seconds: float, json_output: bool
) -> None:
    from contextlib import nullcontext

    from asyncmcp_cli import aws
    from asyncmcp_cli.aws.local_aws import local_endpoint_process
    from asyncmcp_cli.benchmarking.report import print_comparison
    from asyncmcp_cli.benchmarking.shapes import run_standard_shapes

    with local_endpoint_process() if local else nullcontext() as endpoint:
        settings = aws.AwsSettings(endpoint_url=endpoint.url if endpoint else endpoint_url, region=region)
        results = run_standard_shapes(
            settings.resolved_endpoint,
            settings.resolved_region,
            calls=calls,
            idle_seconds=idle_seconds,
            endpoint_pid=endpoint.pid if endpoint else None,
            step=(lambda _: None) if json_output else lambda text: err_console.print(f"[dim]measuring {text}…[/]"),
        )
    if json_output:
        print_json([result.as_dict() for result in results])
        return
    print_comparison(results)
