"""One traced call over SQS against moto, in a process of its own; prints the finished spans as JSON.

Run by `test_traces` (a tracer provider is process-wide and cannot be taken
back, so the rest of the suite never sees one), and by hand to look at a trace::

    python -m tests.tracing.traced_call ENDPOINT_URL call|malformed|sns|lambda [--tree]

``call``: one `connect`-style SDK client call through a server over SQS.
``malformed``: foreign requests with garbage, attribute-only and _meta-only trace context, then a call.
``sns``: the call over sns+sqs with SNS envelopes.
``lambda``: the call served by the Lambda handler (`asyncmcp_cli.serverless`).
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import anyio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from asyncmcp_cli import aws
from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.aws.sns_topics import topic_name_of
from asyncmcp_cli.aws.sqs_queues import queue_name_of
from asyncmcp_cli.client import open_client
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.tracing.traced_app import ATTRIBUTE_ONLY, META_ONLY, app

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
MALFORMED_TRACEPARENT = "00-" + "z" * 32 + "-00f067aa0ba902b7-01"


async def calls_processed(queue: str, count: int) -> None:
    """Wait until `count` tools/call requests taken from `queue` have ended their process spans."""

    def ended() -> int:
        return sum(
            span.name == f"process {queue}" and (span.attributes or {}).get("mcp.method.name") == "tools/call"
            for span in exporter.get_finished_spans()
        )

    with anyio.fail_after(10):
        while ended() < count:  # noqa: ASYNC110 - spans end in other tasks, with nothing to wait on
            await anyio.sleep(0.05)


async def run(endpoint: str, mode: str) -> dict[str, Any]:
    if mode == "sns":
        return await run_sns(endpoint)
    if mode == "lambda":
        return await run_lambda(endpoint)
    prefix = f"asyncmcp-tr{uuid.uuid4().hex[:8]}-"
    settings = aws.AwsSettings(endpoint_url=endpoint, region=aws.DEFAULT_REGION)
    urls = local_aws.create_queues(settings, (prefix + "requests", prefix + "replies"))
    transport = SqsTransport(
        endpoint_url=endpoint,
        request_queue=prefix + "requests",
        reply_queue=prefix + "replies",
        allow_reply=(prefix + "*",),
    )
    out: dict[str, Any] = {"request_queue": prefix + "requests", "reply_queue": prefix + "replies"}
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(app._lowlevel_server, transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        if mode == "malformed":
            out["raw_answers"] = await _foreign_requests(settings, urls[prefix + "requests"], urls[prefix + "replies"])
        async with open_client(transport, timeout=20) as client:
            result = await client.call_tool("echo", {"text": "traced"})
        out["answer"] = result.content[0].text
        # the server's process span ends once the request is settled, just after the reply was sent
        await calls_processed(prefix + "requests", 4 if mode == "malformed" else 1)
        shutdown.set()
    provider.force_flush()
    out["spans"] = [_as_dict(span) for span in exporter.get_finished_spans()]
    return out


async def run_sns(endpoint: str) -> dict[str, Any]:
    """The same call over sns+sqs, with SNS envelopes (raw delivery off) on both subscriptions."""
    from tests.transports.test_sns import provisioned

    setup = provisioned(local_aws.LocalEndpoint(endpoint), raw_delivery=False)
    transport = setup.transport()
    o = transport.options
    out: dict[str, Any] = {"request_topic": topic_name_of(o.request_topic), "reply_topic": topic_name_of(o.reply_topic)}
    out |= {"request_queue": queue_name_of(o.request_queue), "reply_queue": queue_name_of(o.reply_queue)}
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(app._lowlevel_server, transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        async with open_client(transport, timeout=20) as client:
            result = await client.call_tool("echo", {"text": "traced"})
        out["answer"] = result.content[0].text
        await calls_processed(out["request_queue"], 1)
        shutdown.set()
    provider.force_flush()
    out["spans"] = [_as_dict(span) for span in exporter.get_finished_spans()]
    return out


async def run_lambda(endpoint: str) -> dict[str, Any]:
    """The same call, served by the Lambda handler from events built off the request queue."""
    import os

    from tests.serverless.event_source import invoke, receive_event

    prefix = f"asyncmcp-tl{uuid.uuid4().hex[:8]}-"
    settings = aws.AwsSettings(endpoint_url=endpoint, region=aws.DEFAULT_REGION)
    urls = local_aws.create_queues(settings, (prefix + "requests", prefix + "replies"))
    os.environ["ASYNCMCP_APP"] = "tests.tracing.traced_app:app"
    os.environ["ASYNCMCP_TRANSPORT"] = f"sqs://?endpoint_url={endpoint}&allow_reply={prefix}*"
    queues = _QueuesView(settings)
    transport = SqsTransport(endpoint_url=endpoint, request_queue=prefix + "requests", reply_queue=prefix + "replies")

    async def event_source_mapping() -> None:
        while True:
            event = await anyio.to_thread.run_sync(lambda: receive_event(queues, urls[prefix + "requests"]))  # type: ignore[arg-type]
            if event["Records"]:
                await invoke(queues, urls[prefix + "requests"], event)  # type: ignore[arg-type]

    out: dict[str, Any] = {"request_queue": prefix + "requests", "reply_queue": prefix + "replies"}
    async with anyio.create_task_group() as tg:
        tg.start_soon(event_source_mapping)
        async with open_client(transport, timeout=30) as client:
            result = await client.call_tool("echo", {"text": "traced"})
        out["answer"] = result.content[0].text
        await calls_processed(prefix + "requests", 1)
        tg.cancel_scope.cancel()
    provider.force_flush()
    out["spans"] = [_as_dict(span) for span in exporter.get_finished_spans()]
    return out


class _QueuesView:
    """The part of the tests' `Queues` that `event_source` uses."""

    def __init__(self, settings: aws.AwsSettings) -> None:
        self.sqs = aws.client("sqs", settings)


async def _foreign_requests(settings: aws.AwsSettings, request_url: str, reply_url: str) -> list[str]:
    """Requests of a foreign client, one after another; their answers' bodies.

    raw-1 carries garbage trace context (a malformed attribute, non-string values in _meta),
    raw-2 a valid traceparent only as an attribute, raw-3 one only in _meta.
    """
    garbage = {"traceparent": 12345, "tracestate": ["not", "a", "string"]}
    attribute_only = "00-{}-{}-01".format(*ATTRIBUTE_ONLY)
    meta_only = {"traceparent": "00-{}-{}-01".format(*META_ONLY)}
    return [
        await _foreign_request(settings, request_url, reply_url, "raw-1", garbage, MALFORMED_TRACEPARENT),
        await _foreign_request(settings, request_url, reply_url, "raw-2", {}, attribute_only),
        await _foreign_request(settings, request_url, reply_url, "raw-3", meta_only, None),
    ]


async def _foreign_request(
    settings: aws.AwsSettings, request_url: str, reply_url: str, rid: str, meta: dict[str, Any], traceparent: str | None
) -> str:
    sqs = aws.client("sqs", settings)
    envelope = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    body = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": f"answer {rid}"}, "_meta": envelope | meta},
    }
    attributes = {codec.CLIENT_ID: "raw-client", codec.REPLY_TO: reply_url}
    if traceparent is not None:
        attributes["traceparent"] = traceparent
    await aws.call(
        sqs.send_message,
        QueueUrl=request_url,
        MessageBody=json.dumps(body),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    with anyio.fail_after(20):
        while True:
            got = await aws.call(
                sqs.receive_message, QueueUrl=reply_url, WaitTimeSeconds=1, MessageAttributeNames=["All"]
            )
            for message in got.get("Messages", []):
                await aws.call(sqs.delete_message, QueueUrl=reply_url, ReceiptHandle=message["ReceiptHandle"])
                return str(message["Body"])


def _as_dict(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "attributes": dict(span.attributes or {}),
        "links": [f"{link.context.span_id:016x}" for link in span.links],
        "start": span.start_time,
    }


def tree(spans: list[dict[str, Any]]) -> str:
    """The spans as an indented tree, one trace after another."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    ids = {s["span_id"] for s in spans}
    for span in sorted(spans, key=lambda s: s["start"]):
        parent = span["parent_id"] if span["parent_id"] in ids else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(span: dict[str, Any], depth: int) -> None:
        a = span["attributes"]
        facts = [
            f"{k}={a[k]}" for k in ("messaging.operation.type", "messaging.message.id", "gen_ai.tool.name") if k in a
        ]
        lines.append(f"{'  ' * depth}{span['name']} [{span['kind']}] trace={span['trace_id'][:8]} {' '.join(facts)}")
        for child in children.get(span["span_id"], []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return "\n".join(lines)


if __name__ == "__main__":
    result = anyio.run(run, sys.argv[1], sys.argv[2])
    if "--tree" in sys.argv:
        print(tree(result["spans"]))
    else:
        print(json.dumps(result))
