"""A live session on a shared reply queue that holds N orphaned answers (for clients that are gone):
its tools/call latency, and how long until the orphans are gone. On a local moto endpoint.

Two kinds of orphans:

- stamped: with ``asyncmcp-expires-at`` a few seconds ahead (``--ttl``), as a server sends them to
  a client that declared a short reply TTL and then died;
- unstamped: no expiry (from a server older than reply expiry, or a malformed stamp).

Self-contained (only the transport and the demo server), so it runs on older versions too, for a
before/after. Prints figures; asserts nothing.

    python benchmarks/orphan_replies.py [--orphans 200] [--calls 30] [--ttl 5] [--settle 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
import uuid

import anyio

from asyncmcp_cli import aws
from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.aws.local_aws import LocalEndpoint, local_endpoint_process
from asyncmcp_cli.client import open_client
from asyncmcp_cli.demo import demo
from asyncmcp_cli.server import serve
from asyncmcp_cli.transports.sqs import SqsTransport

EXPIRES_AT = "asyncmcp-expires-at"  # spelled out: older versions do not have the module that names it
CALL_TIMEOUT = 60.0


def put_orphans(sqs: object, url: str, count: int, expires_at: int | None) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"content": []}})
    for start in range(0, count, 10):
        entries = []
        for i in range(start, min(count, start + 10)):
            attributes = {"asyncmcp-client-id": {"DataType": "String", "StringValue": f"gone-{i}"}}
            if expires_at is not None:
                attributes[EXPIRES_AT] = {"DataType": "String", "StringValue": str(expires_at)}
            entries.append({"Id": str(i), "MessageBody": body, "MessageAttributes": attributes})
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[attr-defined]


def on_queue(sqs: object, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]  # type: ignore[attr-defined]
    return sum(int(attrs[name]) for name in names)


async def measure(endpoint: LocalEndpoint, orphans: int, calls: int, ttl: float | None, settle: float) -> str:
    sqs = aws.client("sqs", endpoint.settings)
    prefix = f"asyncmcp-orph-{uuid.uuid4().hex[:6]}-"
    request_url, reply_url = (sqs.create_queue(QueueName=prefix + role)["QueueUrl"] for role in ("req", "rep"))
    put_orphans(sqs, reply_url, orphans, None if ttl is None else int(time.time() + ttl))
    transport = SqsTransport(
        endpoint_url=endpoint.url,
        region=endpoint.settings.region,
        request_queue=request_url,
        reply_queue=reply_url,
        allow_reply=(prefix + "*",),
    )
    shutdown, ready = anyio.Event(), anyio.Event()
    samples: list[float] = []
    unanswered = False
    cleaned_after: float | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(as_lowlevel(demo), transport, shutdown=shutdown, on_ready=ready.set))
        await ready.wait()
        opened = time.perf_counter()
        async with open_client(transport, timeout=CALL_TIMEOUT) as client:
            for i in range(calls):
                started = time.perf_counter()
                try:
                    await client.call_tool("echo", {"text": str(i)})
                except Exception:  # the SDK's request timeout: the answer never reached this session
                    unanswered = True
                    break
                samples.append(time.perf_counter() - started)
            while time.perf_counter() - opened < settle:  # the session stays open, reading its queue
                if await anyio.to_thread.run_sync(on_queue, sqs, reply_url) == 0:
                    cleaned_after = time.perf_counter() - opened
                    break
                await anyio.sleep(0.5)
            left = await anyio.to_thread.run_sync(on_queue, sqs, reply_url)
        shutdown.set()
    for url in (request_url, reply_url):
        sqs.delete_queue(QueueUrl=url)
    ms = sorted(s * 1000 for s in samples)
    kind = f"stamped, {ttl:g} s to live" if ttl is not None else "unstamped"
    if unanswered:
        latency = f"call {len(ms) + 1} NOT ANSWERED within {CALL_TIMEOUT:g} s"
    else:
        latency = f"tools/call p50 {statistics.median(ms):7.1f} ms  max {ms[-1]:8.1f} ms"
    if not orphans:
        return f"{'no orphans':36} {latency}"
    cleaned = (
        f"gone {cleaned_after:5.1f} s after the session opened" if cleaned_after else f"{left} left after {settle:g} s"
    )
    return f"{orphans} orphans ({kind:20})   {latency}   orphans {cleaned}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orphans", type=int, default=200)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--ttl", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=60.0, help="how long the session stays to watch the orphans")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)
    with local_endpoint_process() as endpoint:
        print(anyio.run(measure, endpoint, 0, args.calls, None, 0.0))
        for ttl in (args.ttl, None):
            print(anyio.run(measure, endpoint, args.orphans, args.calls, ttl, args.settle))


if __name__ == "__main__":
    main()
