"""`serve --metrics` and `--log-format json` on a real server process: scraped over HTTP during a load of
calls over moto's SQS, with the endpoint taken away for /readyz."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.client import open_client
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues, wait_until
from tests.faults.tcp_proxy import TcpProxy
from tests.observability.support import json_lines, metrics_url, scrape, value

pytestmark = pytest.mark.anyio

CLI = [sys.executable, "-m", "asyncmcp_cli"]
APP = "tests.observability.opsapp:server"


class ServeProcess:
    """`asyncmcp serve` with JSON logs and a metrics endpoint; every stderr line kept."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def stop(self) -> int:
        """SIGTERM, then its exit code; every line it wrote is in `lines` afterwards."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        self.process.stderr.close()  # type: ignore[union-attr]
        return code

    async def wait_for(self, needle: str, within: float = 30) -> None:
        await wait_until(lambda: any(needle in line for line in self.lines), within=within)


@contextmanager
def serve(queues: Queues, *args: str, endpoint: str | None = None) -> Iterator[ServeProcess]:
    env = os.environ | queues.endpoint.exports() | {"NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    command = [
        *CLI, "serve", APP, "--request-queue", queues.request, "--allow-reply", queues.prefix + "*",
        "--grace-period", "2", "--metrics", "127.0.0.1:0", "--log-format", "json", *args,
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    server = ServeProcess(process)
    try:
        yield server
    finally:
        server.stop()


def client_transport(queues: Queues) -> SqsTransport:
    return SqsTransport(
        endpoint_url=queues.endpoint.url, request_queue=queues.request, reply_queue=queues.reply, wait_seconds=1
    )


@pytest.mark.timeout(120)
async def test_metrics_move_with_a_load_of_calls_and_health_answers_throughout(queues: Queues) -> None:
    calls = 40
    with serve(queues, "--log-level", "debug") as server:
        await server.wait_for('"serving ')
        base = metrics_url(server.lines)
        assert httpx2.get(base + "/healthz", timeout=10).json() == {"status": "ok"}
        before = scrape(base)
        assert value(before, "asyncmcp_requests_received_total", transport="sqs", method="tools/call") == 0
        assert value(before, "asyncmcp_requests_in_flight", transport="sqs") == 0

        in_flight_seen: list[float] = []
        async with open_client(client_transport(queues), timeout=60) as client:
            async with anyio.create_task_group() as tg:
                for n in range(calls):
                    tg.start_soon(client.call_tool, "slow_echo", {"text": f"call-{n}", "seconds": 1.0})

                async def scrape_during_load() -> None:
                    await wait_until(lambda: in_flight_seen.append(_in_flight(base)) or in_flight_seen[-1] > 0)
                    assert httpx2.get(base + "/readyz", timeout=10).status_code == 200

                tg.start_soon(scrape_during_load)
            failing = await client.call_tool("fail_with", {"message": "no"})  # isError: answered, not failed
            assert failing.is_error
            with pytest.raises(MCPError):  # a JSON-RPC error: answered and failed
                await client.get_prompt("no-such-prompt")

            after = scrape(base)
        assert max(in_flight_seen) > 0
        assert value(after, "asyncmcp_requests_received_total", transport="sqs", method="tools/call") == calls + 1
        assert value(after, "asyncmcp_requests_answered_total", transport="sqs", method="tools/call") == calls + 1
        assert value(after, "asyncmcp_requests_failed_total", transport="sqs", method="tools/call") == 0
        assert value(after, "asyncmcp_requests_answered_total", transport="sqs", method="prompts/get") == 1
        assert value(after, "asyncmcp_requests_failed_total", transport="sqs", method="prompts/get") == 1
        assert (
            value(after, "asyncmcp_request_duration_seconds_count", transport="sqs", method="tools/call") == calls + 1
        )
        assert value(after, "asyncmcp_request_duration_seconds_sum", transport="sqs", method="tools/call") >= calls
        assert (
            value(after, "asyncmcp_request_duration_seconds_bucket", transport="sqs", method="tools/call", le="0.5")
            == 1
        )
        assert value(after, "asyncmcp_queue_age_seconds_count", transport="sqs") >= calls + 1
        assert value(after, "asyncmcp_requests_in_flight", transport="sqs") == 0
        assert value(after, "asyncmcp_reply_send_retries_total", transport="sqs") == 0
        assert value(after, "asyncmcp_requests_dead_lettered_total", transport="sqs", method="tools/call") == 0
        assert value(after, "process_cpu_seconds_total") > 0
        assert httpx2.get(base + "/readyz", timeout=10).json() == {"status": "ready"}

    records = json_lines(server.lines)  # every line of stderr is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    answered = [r for r in records if str(r["message"]).startswith("answered tools/call")]
    assert len(answered) == calls + 1
    assert all({"client_id", "request_id", "method", "duration"} <= set(r) for r in answered)
    assert all(r["method"] == "tools/call" and isinstance(r["duration"], float) for r in answered)
    assert len({r["client_id"] for r in answered}) == 1


def _in_flight(base: str) -> float:
    return value(scrape(base), "asyncmcp_requests_in_flight", transport="sqs")


@pytest.mark.timeout(120)
async def test_readyz_fails_while_the_endpoint_is_down_and_recovers(queues: Queues) -> None:
    moto_port = urlsplit(queues.endpoint.url).port
    assert moto_port is not None
    proxy = TcpProxy(moto_port)
    proxy.start()
    try:
        with serve(queues, "-o", "wait_seconds=1", endpoint=proxy.url) as server:
            await server.wait_for('"serving ')
            base = metrics_url(server.lines)
            await wait_until(lambda: httpx2.get(base + "/readyz", timeout=10).status_code == 200, within=20)

            proxy.cut()
            await wait_until(lambda: httpx2.get(base + "/readyz", timeout=10).status_code == 503, within=30)
            down = httpx2.get(base + "/readyz", timeout=10).json()
            assert down["status"] == "not ready"
            assert down["reason"].startswith("cannot receive: ")
            assert httpx2.get(base + "/healthz", timeout=10).status_code == 200  # alive, just not ready

            proxy.start()
            await wait_until(lambda: httpx2.get(base + "/readyz", timeout=10).status_code == 200, within=30)
    finally:
        proxy.cut()
    failures = [r for r in json_lines(server.lines) if str(r["message"]).startswith("receive from")]
    assert failures
    assert failures[0]["level"] == "warning"
    assert str(failures[0]["queue"]).endswith("/" + queues.request)
