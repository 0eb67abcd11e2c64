"""Soak: many SDK clients at once through one proxy over SQS (moto's server); nothing lost, nothing crossed."""

from __future__ import annotations

import time

import anyio
import pytest
from mcp import Client

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.demo import demo
from tests.cli.processes import proxying, serving
from tests.conftest import Queues
from tests.proxy.support import proxied
from tests.proxy.test_sqs_backend import sqs


async def soak(url: str, *, clients: int, calls: int) -> dict[str, list[str]]:
    """`clients` SDK clients at once (half stateless, half handshake), `calls` tool calls each."""
    answers: dict[str, list[str]] = {}

    async def client(n: int) -> None:
        name = f"client{n}"
        async with Client(url, mode="2026-07-28" if n % 2 else "legacy") as session:
            got = answers.setdefault(name, [])
            for i in range(calls):
                result = await session.call_tool("echo", {"text": f"{name} call {i}"})
                got.append(result.content[0].text)

    async with anyio.create_task_group() as tg:
        for n in range(clients):
            tg.start_soon(client, n)
    return answers


def expected(clients: int, calls: int) -> dict[str, list[str]]:
    return {f"client{n}": [f"client{n} call {i}" for i in range(calls)] for n in range(clients)}


@pytest.mark.anyio
async def test_twenty_clients_through_one_proxy_lose_and_cross_nothing(queues: Queues) -> None:
    clients, calls = 20, 15
    started = time.monotonic()
    async with proxied(as_lowlevel(demo), sqs(queues), call_timeout=30) as url:
        answers = await soak(url, clients=clients, calls=calls)
    elapsed = time.monotonic() - started
    assert answers == expected(clients, calls)  # every call answered, each client with its own answers
    print(f"\nsoak: {clients * calls} calls from {clients} clients through one proxy over SQS in {elapsed:.1f}s")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_thousand_calls_through_a_proxy_process_to_a_server_process(queues: Queues) -> None:
    clients, calls = 20, 50
    with serving(queues), proxying(queues) as (url, _):
        started = time.monotonic()
        answers = anyio.run(lambda: soak(url, clients=clients, calls=calls))
        elapsed = time.monotonic() - started
    assert answers == expected(clients, calls)
    print(f"\nsoak: {clients * calls} calls from {clients} clients, proxy and server as processes, {elapsed:.1f}s")
