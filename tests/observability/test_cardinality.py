"""A hostile client cannot grow the metrics without bound: method names off the queue become labels only
if MCP defines them, everything else is ``other``. And its text stays inside JSON log strings."""

from __future__ import annotations

import json
import logging

import anyio
import pytest

from asyncmcp_cli.observability.health import serving_health
from asyncmcp_cli.observability.logs import JsonFormatter
from asyncmcp_cli.observability.metrics import PrometheusRecorder
from asyncmcp_cli.observability.recorder import KNOWN_METHODS, OTHER, install, method_label
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues
from tests.observability.support import scrape, series, value
from tests.testapp import ControlledApp
from tests.transports.contract import running

pytestmark = pytest.mark.anyio

HOSTILE = 100
PROTOCOL = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


def request(rid: int, method: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": {"_meta": PROTOCOL}}


@pytest.mark.timeout(120)
async def test_hundreds_of_made_up_methods_make_one_series_named_other(queues: Queues) -> None:
    metrics = PrometheusRecorder("sqs")
    previous = install(metrics)
    try:
        server_side = SqsTransport(
            endpoint_url=queues.endpoint.url,
            request_queue=queues.request,
            allow_reply=(queues.prefix + "*",),
            wait_seconds=1,
        )
        async with serving_health(metrics, "127.0.0.1", 0) as bound, running(ControlledApp(), server_side):
            base = bound.url("").rstrip("/")
            attributes = {
                codec.CLIENT_ID: {"DataType": "String", "StringValue": "hostile"},
                codec.REPLY_TO: {"DataType": "String", "StringValue": queues.reply_url},
            }
            methods = [f"evil/{n}\n\x1b]0;x\x07" if n % 2 else f"tools/call{n}" for n in range(HOSTILE)]
            methods[0] = "tools/list"  # a real one among them keeps its own label
            for start in range(0, HOSTILE, 10):
                entries = [
                    {"Id": str(n), "MessageBody": json.dumps(request(n, methods[n])), "MessageAttributes": attributes}
                    for n in range(start, start + 10)
                ]
                await anyio.to_thread.run_sync(
                    lambda e=entries: queues.sqs.send_message_batch(QueueUrl=queues.request_url, Entries=e)
                )

            with anyio.fail_after(60):  # scraped off the event loop: the endpoint runs on this one
                while True:
                    samples = await anyio.to_thread.run_sync(scrape, base)
                    answered = sum(
                        value(samples, "asyncmcp_requests_answered_total", transport="sqs", method=m)
                        for m in (OTHER, "tools/list")
                    )
                    if answered >= HOSTILE:
                        break
                    await anyio.sleep(0.5)
    finally:
        install(previous)
    received = series(samples, "asyncmcp_requests_received_total")
    assert sorted(labels["method"] for labels in received) == [OTHER, "tools/list"]
    assert value(samples, "asyncmcp_requests_received_total", transport="sqs", method=OTHER) == HOSTILE - 1
    assert value(samples, "asyncmcp_requests_failed_total", transport="sqs", method=OTHER) == HOSTILE - 1  # not found
    assert value(samples, "asyncmcp_requests_failed_total", transport="sqs", method="tools/list") == 0
    assert len(series(samples, "asyncmcp_request_duration_seconds_count")) == 2


def test_method_labels_are_the_known_methods_or_other() -> None:
    assert method_label("tools/call") == "tools/call"
    assert all(method_label(m) == m for m in KNOWN_METHODS)
    for hostile in ("tools/call ", "TOOLS/CALL", "x" * 10_000, "", None, 7, "notifications/\x1b[2J"):
        assert method_label(hostile) == OTHER


def test_a_json_log_line_keeps_untrusted_text_inside_its_strings() -> None:
    record = logging.LogRecord("asyncmcp", logging.WARNING, __file__, 1, "bad message from client %s", ("a\nb",), None)
    record.client_id = 'evil\n{"level": "info"}\x1b]0;title\x07\u202e'
    record.duration = 0.25
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line and line.isascii()
    parsed = json.loads(line)
    assert parsed["message"] == "bad message from client a\nb"
    assert parsed["client_id"] == 'evil\n{"level": "info"}\x1b]0;title\x07\u202e'
    assert parsed["duration"] == 0.25
    assert parsed["level"] == "warning"
