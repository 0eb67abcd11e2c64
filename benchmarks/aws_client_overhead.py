"""What an SQS request costs the calling process: boto3 on worker threads against aiobotocore.

asyncmcp runs each boto3 call on a worker thread (`asyncmcp_cli.aws.call`).
aiobotocore would run it on the event loop instead (aiohttp, or httpx2 on
anyio, the HTTP stack of the mcp SDK). This times the same work both ways
against one endpoint: `--concurrency` tasks each doing send_message_batch
(10 entries), receive_message (up to 10) and delete_message_batch, and prints
requests/s and CPU ms per request of this process. Run it from an environment
that has the client under test (aiobotocore pins its own botocore range, so
it needs a virtualenv of its own), against a running endpoint:

    python benchmarks/aws_client_overhead.py --endpoint-url http://127.0.0.1:4750 --client threads
    /path/to/aiobotocore-venv/bin/python benchmarks/aws_client_overhead.py --endpoint-url ... --client httpx2

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from typing import Any

import anyio
import anyio.to_thread

CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


async def _round(call: Any, url: str, n: int) -> int:
    entries = [{"Id": str(i), "MessageBody": f"m{n}-{i}"} for i in range(10)]
    await call("send_message_batch", QueueUrl=url, Entries=entries)
    got = await call("receive_message", QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got.get("Messages", []))]
    if handles:
        await call("delete_message_batch", QueueUrl=url, Entries=handles)
        return 3
    return 2


async def _drive(call: Any, url: str, rounds: int, concurrency: int) -> dict[str, float]:
    for n in range(3):  # warm-up: connections, botocore's loaders
        await _round(call, url, -n)
    requests = 0
    limiter = anyio.Semaphore(concurrency)
    started, cpu = time.perf_counter(), _cpu()

    async def one(n: int) -> None:
        nonlocal requests
        async with limiter:
            done = await _round(call, url, n)
            requests += done

    async with anyio.create_task_group() as tg:
        for n in range(rounds):
            tg.start_soon(one, n)
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    return {"requests": requests, "requests_per_second": requests / wall, "cpu_ms_per_request": cpu * 1000 / requests}


async def threads(endpoint: str, rounds: int, concurrency: int) -> dict[str, float]:
    import boto3

    client = boto3.session.Session().client("sqs", endpoint_url=endpoint, **CREDENTIALS)
    url = client.create_queue(QueueName=f"overhead-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    limiter = anyio.CapacityLimiter(64)

    async def call(operation: str, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: getattr(client, operation)(**kwargs), limiter=limiter)

    try:
        return await _drive(call, url, rounds, concurrency)
    finally:
        client.delete_queue(QueueUrl=url)


async def aio(endpoint: str, rounds: int, concurrency: int, backend: str) -> dict[str, float]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    config = AioConfig(max_pool_connections=64)
    if backend == "httpx2":
        from aiobotocore.httpxsession import HttpxSession

        config = AioConfig(max_pool_connections=64, http_session_cls=HttpxSession)
    async with get_session().create_client("sqs", endpoint_url=endpoint, config=config, **CREDENTIALS) as client:
        url = (await client.create_queue(QueueName=f"overhead-{uuid.uuid4().hex[:8]}"))["QueueUrl"]

        async def call(operation: str, **kwargs: Any) -> Any:
            return await getattr(client, operation)(**kwargs)

        try:
            return await _drive(call, url, rounds, concurrency)
        finally:
            await client.delete_queue(QueueUrl=url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--client", choices=("threads", "aiohttp", "httpx2"), default="threads")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    if args.client == "threads":
        figures = anyio.run(threads, args.endpoint_url, args.rounds, args.concurrency)
    else:
        figures = anyio.run(aio, args.endpoint_url, args.rounds, args.concurrency, args.client)
    print(json.dumps({"client": args.client, "concurrency": args.concurrency} | figures))


if __name__ == "__main__":
    main()
