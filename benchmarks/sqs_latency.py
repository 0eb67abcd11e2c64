"""tools/call latency over SQS against the raw boto3 two-hop floor, on a local moto endpoint.

The same measurement as `asyncmcp bench --local` (see asyncmcp_cli/bench.py),
kept as a script for `make bench`. Prints figures; asserts nothing.

    python benchmarks/sqs_latency.py [--calls 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging

import anyio

from asyncmcp_cli.aws.local_aws import local_endpoint_process
from asyncmcp_cli.bench import BenchSettings, run_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)
    options = BenchSettings(calls=args.calls, idle_seconds=20, idle_sessions=1000)
    with local_endpoint_process() as endpoint:
        report = anyio.run(run_bench, endpoint.settings, options)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    floor, call = report.floor_ms, report.tools_call_ms
    print(f"raw boto3 two-hop floor   p50 {floor['p50']:6.1f} ms   p95 {floor['p95']:6.1f} ms")
    print(
        f"asyncmcp tools/call       p50 {call['p50']:6.1f} ms   p95 {call['p95']:6.1f} ms   p99 {call['p99']:6.1f} ms"
    )
    print(f"same calls in memory      p50 {report.in_memory_call_ms['p50']:6.1f} ms   (the SDK's own cost)")
    print(f"latency ratio (p50)       {report.latency_ratio:.2f}x")
    print(
        f"SQS requests per call     {report.requests_per_call_sequential:.2f} one at a time, "
        f"{report.requests_per_call_under_load:.2f} under load"
    )
    print(f"throughput                {report.throughput_calls_per_second:.0f} calls/s")
    print(f"idle requests per minute  {report.idle_requests_per_minute:.1f} per poller")
    print(
        f"memory, idle sessions     {report.memory_per_idle_session_kib:.0f} KiB each ({report.idle_sessions} sessions)"
    )


if __name__ == "__main__":
    main()
