"""Latency of the webhook transports, on real uvicorn servers on 127.0.0.1.

Measures in one run (server and client in this process, on one event loop):

- ``webhook``: ``tools/call`` latency of a fast tool (echo), p50/p95, through
  the SDK client and server: a POST answered 202, then a signed webhook back;
- ``http+webhook``: the same fast tool (answered on the HTTP request, as plain
  streamable HTTP);
- ``http+webhook``: a slow webhook tool (``--slow-seconds``, default 60): the
  time until the HTTP request is answered (202) and the time until the result
  arrives by webhook, for ``--slow-calls`` calls made at once with raw HTTP,
  plus the same call end to end through the SDK client.

Prints figures; asserts nothing. Usage:
    python benchmarks/webhook_latency.py [--calls 300] [--slow-seconds 60] [--slow-calls 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp.server.mcpserver import MCPServer
from rich.console import Console
from rich.table import Table

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.client import open_client
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.http_webhook.transport import HttpWebhookTransport
from asyncmcp_cli.transports.webhook.receiver import receiver_app
from asyncmcp_cli.transports.webhook.serving import serve_asgi
from asyncmcp_cli.transports.webhook.signing import Verifier, generate_secret
from asyncmcp_cli.transports.webhook.transport import WebhookTransport

MODERN = "2026-07-28"


def bench_server(slow_seconds: float) -> MCPServer:
    server = MCPServer("webhook-bench")

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.tool()
    async def slow(seconds: float = slow_seconds) -> str:
        await anyio.sleep(seconds)
        return f"done after {seconds:g}s"

    return server


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "mean_ms": statistics.fmean(values) * 1000,
        "max_ms": max(values) * 1000,
    }


async def fast_calls(transport: Transport, calls: int) -> dict[str, float]:
    async with open_client(transport, timeout=30) as client:
        for _ in range(20):  # warm up connections and code paths
            await client.call_tool("echo", {"text": "warm"})
        times = []
        for n in range(calls):
            started = time.perf_counter()
            result = await client.call_tool("echo", {"text": f"n{n}"})
            times.append(time.perf_counter() - started)
            assert result.content[0].text == f"n{n}"
    return summary(times)


async def with_server(server: MCPServer, transport: Transport, work: Any) -> Any:
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: serve(as_lowlevel(server), transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set)
        )
        await ready.wait()
        try:
            return await work()
        finally:
            shutdown.set()


def slow_request(rid: int, seconds: float) -> tuple[str, dict[str, str]]:
    body = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {
            "name": "slow",
            "arguments": {"seconds": seconds},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": "tools/call",
        "mcp-name": "slow",
    }
    return json.dumps(body), headers


async def slow_calls(transport: HttpWebhookTransport, secret: str, seconds: float, count: int) -> dict[str, Any]:
    """Raw HTTP calls of the slow webhook tool: time to the 202, time to the webhook result."""
    arrived: dict[int, float] = {}
    done = anyio.Event()

    async def on_webhook(body: bytes, headers: Mapping[str, str]) -> int:
        message = json.loads(body)
        if "result" in message or "error" in message:
            arrived[message["id"]] = time.perf_counter()
            if len(arrived) == count:
                done.set()
        return 202

    replies: dict[int, float] = {}
    started: dict[int, float] = {}
    async with serve_asgi(receiver_app(Verifier([secret]), on_webhook)) as bound, httpx2.AsyncClient() as http:
        routing = {codec.CLIENT_ID: "bench", codec.REPLY_TO: bound.url("/webhook")}

        async def call(rid: int) -> None:
            body, headers = slow_request(rid, seconds)
            started[rid] = time.perf_counter()
            response = await http.post(transport.server_url, content=body, headers=headers | routing)
            replies[rid] = time.perf_counter()
            assert response.status_code == 202, response.text

        async with anyio.create_task_group() as tg:
            for rid in range(1, count + 1):
                tg.start_soon(call, rid)
        with anyio.fail_after(seconds + 60):
            await done.wait()
    to_reply = [replies[r] - started[r] for r in started]
    to_result = [arrived[r] - started[r] for r in started]
    return {"http_reply": summary(to_reply), "result": summary(to_result)}


async def sdk_slow_call(transport: HttpWebhookTransport, seconds: float) -> float:
    async with open_client(transport, timeout=seconds + 60) as client:
        started = time.perf_counter()
        result = await client.call_tool("slow", {"seconds": seconds})
        assert not result.is_error, result
        return time.perf_counter() - started


async def main(args: argparse.Namespace) -> dict[str, Any]:
    secret = generate_secret()
    dead_letter = str(Path(tempfile.mkdtemp(prefix="asyncmcp-bench-")) / "dead-letter.jsonl")
    common = {
        "port": 0,
        "webhook_secret": (secret,),
        "allow_webhook": ("http://127.0.0.1:*",),
        "dead_letter": dead_letter,
    }
    figures: dict[str, Any] = {}

    webhook = WebhookTransport(**common)
    figures["webhook_fast"] = await with_server(
        bench_server(args.slow_seconds), webhook, lambda: fast_calls(webhook, args.calls)
    )

    http = HttpWebhookTransport(**common, webhook_tools=("slow",))

    async def http_work() -> dict[str, Any]:
        out: dict[str, Any] = {"http_fast": await fast_calls(http, args.calls)}
        async with anyio.create_task_group() as tg:
            results: dict[str, Any] = {}

            async def raw() -> None:
                results["raw"] = await slow_calls(http, secret, args.slow_seconds, args.slow_calls)

            async def sdk() -> None:
                results["sdk"] = await sdk_slow_call(http, args.slow_seconds)

            tg.start_soon(raw)
            tg.start_soon(sdk)
        out["http_slow"] = results["raw"]
        out["http_slow_sdk_s"] = results["sdk"]
        return out

    figures |= await with_server(bench_server(args.slow_seconds), http, http_work)
    figures["config"] = {"calls": args.calls, "slow_seconds": args.slow_seconds, "slow_calls": args.slow_calls}
    return figures


def render(figures: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="asyncmcp webhook transports on 127.0.0.1 (one process, one event loop)")
    for column in ("measure", "n", "p50", "p95", "max"):
        table.add_column(column, justify="right" if column != "measure" else "left")

    def row(name: str, s: dict[str, float], unit: str = "ms") -> None:
        scale = 1 if unit == "ms" else 1 / 1000
        table.add_row(
            name,
            str(s["n"]),
            f"{s['p50_ms'] * scale:.1f} {unit}",
            f"{s['p95_ms'] * scale:.1f} {unit}",
            f"{s['max_ms'] * scale:.1f} {unit}",
        )

    slow = figures["config"]["slow_seconds"]
    row("webhook: fast tools/call (echo)", figures["webhook_fast"])
    row("http+webhook: fast tools/call (echo, inline)", figures["http_fast"])
    row(f"http+webhook: slow tool ({slow:g}s), time to HTTP reply", figures["http_slow"]["http_reply"])
    row(f"http+webhook: slow tool ({slow:g}s), time to result", figures["http_slow"]["result"], unit="s")
    console.print(table)
    console.print(f"SDK client, slow webhook tool end to end: {figures['http_slow_sdk_s']:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="fast calls per transport")
    parser.add_argument("--slow-seconds", type=float, default=60.0, help="how long the slow webhook tool takes")
    parser.add_argument("--slow-calls", type=int, default=5, help="slow calls made at once")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = anyio.run(main, arguments)
    if arguments.json:
        print(json.dumps(result, indent=2))
    else:
        render(result)
