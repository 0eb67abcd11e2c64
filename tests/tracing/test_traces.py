"""OpenTelemetry traces: one call is one trace, from the client through both queues and back.

Each check runs in a process of its own (`traced_call`), because a tracer
provider is process-wide and cannot be uninstalled: the rest of the suite runs
with tracing off, as most users do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.protocol import codec
from tests.tracing.traced_app import ATTRIBUTE_ONLY, META_ONLY

pytestmark = pytest.mark.timeout(300)


def run_traced(moto: local_aws.LocalEndpoint, mode: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | moto.exports()
    done = subprocess.run(
        [sys.executable, "-m", "tests.tracing.traced_call", moto.url, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def one(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [s for s in spans if s["name"] == name]
    assert len(found) == 1, f"{len(found)} spans named {name!r} in {[s['name'] for s in spans]}"
    return found[0]


@pytest.mark.parametrize("server", ["call", "lambda"])
def test_one_call_is_one_trace_from_client_to_server_to_tool_and_back(
    moto: local_aws.LocalEndpoint, server: str
) -> None:
    """`call`: a `serve`-style server; `lambda`: the Lambda handler fed events off the request queue."""
    run = run_traced(moto, server)
    assert run["answer"] == "traced"
    root = one(run["spans"], "MCP send tools/call echo")
    spans = [s for s in run["spans"] if s["trace_id"] == root["trace_id"]]
    request_queue, reply_queue = run["request_queue"], run["reply_queue"]

    send = one(spans, f"send {request_queue}")
    process = one(spans, f"process {request_queue}")
    server = one(spans, "tools/call echo")
    tool = one(spans, "tool work")
    reply = one(spans, f"send {reply_queue}")
    received = one(spans, f"process {reply_queue}")
    assert len(spans) == 7
    assert root["parent_id"] is None and root["kind"] == "CLIENT"
    assert (send["parent_id"], send["kind"]) == (root["span_id"], "PRODUCER")
    assert (process["parent_id"], process["kind"], process["links"]) == (send["span_id"], "CONSUMER", [send["span_id"]])
    assert (server["parent_id"], server["kind"]) == (process["span_id"], "SERVER")
    assert tool["parent_id"] == server["span_id"]
    assert (reply["parent_id"], reply["kind"]) == (process["span_id"], "PRODUCER")
    assert (received["parent_id"], received["kind"]) == (reply["span_id"], "CONSUMER")

    for span, queue, operation in [
        (send, request_queue, "send"),
        (process, request_queue, "process"),
        (reply, reply_queue, "send"),
        (received, reply_queue, "process"),
    ]:
        attributes = span["attributes"]
        assert attributes["messaging.system"] == "aws_sqs"
        assert attributes["messaging.destination.name"] == queue
        assert attributes["messaging.operation.type"] == operation
    assert send["attributes"]["messaging.message.id"] == process["attributes"]["messaging.message.id"]
    assert reply["attributes"]["messaging.message.id"] == received["attributes"]["messaging.message.id"]
    assert send["attributes"]["messaging.message.id"] != reply["attributes"]["messaging.message.id"]
    assert process["attributes"]["mcp.method.name"] == "tools/call"
    assert process["attributes"]["asyncmcp.outcome"] == "ack"


def test_trace_context_from_a_message_is_read_from_either_carrier_and_ignored_when_malformed(
    moto: local_aws.LocalEndpoint,
) -> None:
    run = run_traced(moto, "malformed")
    answers = {a.id: a.result["content"][0]["text"] for a in map(codec.decode, run["raw_answers"])}
    assert answers == {"raw-1": "answer raw-1", "raw-2": "answer raw-2", "raw-3": "answer raw-3"}
    processes = {
        s["attributes"].get("jsonrpc.request.id"): s
        for s in run["spans"]
        if s["name"] == f"process {run['request_queue']}"
    }

    garbage = processes["raw-1"]
    assert garbage["parent_id"] is None and garbage["links"] == []  # a trace of its own, not the garbage one
    assert garbage["trace_id"] != "z" * 32
    assert {s["trace_id"] for s in run["spans"] if s["parent_id"] == garbage["span_id"]} == {garbage["trace_id"]}
    assert (processes["raw-2"]["trace_id"], processes["raw-2"]["parent_id"]) == ATTRIBUTE_ONLY
    assert (processes["raw-3"]["trace_id"], processes["raw-3"]["parent_id"]) == META_ONLY

    # and the well-formed call after them is traced end to end as usual
    root = one(run["spans"], "MCP send tools/call echo")
    assert sorted(s["name"] for s in run["spans"] if s["trace_id"] == root["trace_id"]) == sorted(
        [
            "MCP send tools/call echo",
            f"send {run['request_queue']}",
            f"process {run['request_queue']}",
            "tools/call echo",
            "tool work",
            f"send {run['reply_queue']}",
            f"process {run['reply_queue']}",
        ]
    )


PROBE = """
import sys
from asyncmcp_cli import tracing
import asyncmcp_cli.cli, asyncmcp_cli.serverless, asyncmcp_cli.transports.sqs
on = tracing.configure_from_environment()
loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk") or m == "asyncmcp_cli.tracing.spans")
print(on, tracing.active(), bool(loaded))
"""


def probe(**otel: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | otel
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_without_otel_variables_tracing_is_off_and_imports_nothing() -> None:
    assert probe() == ["False", "False", "False"]
    assert probe(OTEL_TRACES_EXPORTER="none") == ["False", "False", "False"]
    assert probe(OTEL_TRACES_EXPORTER="console", OTEL_SDK_DISABLED="true") == ["False", "False", "False"]


def test_otel_variables_turn_tracing_on() -> None:
    assert probe(OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="probe") == ["True", "True", "True"]
    assert probe(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9") == ["True", "True", "True"]


def test_sns_hops_join_the_same_trace_through_envelopes(moto: local_aws.LocalEndpoint) -> None:
    run = run_traced(moto, "sns")
    assert run["answer"] == "traced"
    root = one(run["spans"], "MCP send tools/call echo")
    spans = [s for s in run["spans"] if s["trace_id"] == root["trace_id"]]
    publish = one(spans, f"send {run['request_topic']}")
    process = one(spans, f"process {run['request_queue']}")
    reply = one(spans, f"send {run['reply_topic']}")
    received = one(spans, f"process {run['reply_queue']}")
    assert publish["parent_id"] == root["span_id"] and publish["attributes"]["messaging.system"] == "aws_sns"
    assert process["parent_id"] == publish["span_id"] and process["attributes"]["messaging.system"] == "aws_sqs"
    assert one(spans, "tools/call echo")["parent_id"] == process["span_id"]
    assert reply["parent_id"] == process["span_id"] and reply["attributes"]["messaging.system"] == "aws_sns"
    assert received["parent_id"] == reply["span_id"]
    assert len(spans) == 7
