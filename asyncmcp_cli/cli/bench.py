"""`asyncmcp bench`: measure the SQS transport on the endpoint you point it at."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

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
    calls: Annotated[int, typer.Option(help="Calls per measurement.")] = 200,
    clients: Annotated[int, typer.Option(help="Clients driving the load test.")] = 4,
    in_flight: Annotated[int, typer.Option(help="Calls in flight per client in the load test.")] = 40,
    idle_seconds: Annotated[float, typer.Option(help="How long to watch an idle server's API requests.")] = 30.0,
    idle_sessions: Annotated[int, typer.Option(help="Client sessions to open for the memory measurement.")] = 1000,
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
    """
    from contextlib import nullcontext

    from asyncmcp_cli import aws
    from asyncmcp_cli.bench import TARGETS, BenchSettings, run_bench
    from asyncmcp_cli.local_aws import local_endpoint_process

    setup_logging("warning")
    if shapes:
        _bench_shapes(local, endpoint_url, region, calls, idle_seconds, json_output)
        return
    options = BenchSettings(calls, clients, in_flight, idle_seconds, idle_sessions)
    with local_endpoint_process() if local else nullcontext() as endpoint:
        settings = aws.AwsSettings(endpoint_url=endpoint.url if endpoint else endpoint_url, region=region)

        def step(text: str) -> None:
            if not json_output:
                err_console.print(f"[dim]measuring {text}…[/]")

        report = run(lambda: run_bench(settings, options, step))
    if json_output:
        print_json(report.as_dict())
        return
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
    table.add_row(
        f"server memory for {report.idle_sessions} idle sessions",
        f"{report.memory_for_idle_sessions_mib:.1f} MiB ({report.memory_per_idle_session_kib:.0f} KiB each)",
        "",
    )
    console.print(table)


def _target(value: float, name: str, targets: dict[str, float]) -> str:
    limit = targets[name]
    mark = "[green]✓[/]" if value <= limit else "[yellow]✗[/]"
    return f"≤ {limit:g} {mark}"


def _bench_shapes(
    local: bool, endpoint_url: str | None, region: str | None, calls: int, idle_seconds: float, json_output: bool
) -> None:
    from contextlib import nullcontext

    from asyncmcp_cli import aws
    from asyncmcp_cli.benchmarking.report import print_comparison
    from asyncmcp_cli.benchmarking.shapes import run_standard_shapes
    from asyncmcp_cli.local_aws import local_endpoint_process

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
