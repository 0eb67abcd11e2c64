"""The proxy in front of a real SQS backend (moto's server) that is down, then comes up."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.demo import demo
from asyncmcp_cli.proxy import HttpFrontOptions, http_front
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues
from tests.proxy.support import backend

pytestmark = pytest.mark.anyio


def sqs(queues: Queues, **overrides: object) -> SqsTransport:
    settings = {
        "request_queue": queues.request,
        "reply_queue": queues.reply,
        "endpoint_url": queues.endpoint.url,
        "region": "us-east-1",
        "allow_reply": (queues.prefix + "*",),
        "wait_seconds": 2,
    }
    return SqsTransport(**(settings | overrides))


async def test_a_backend_that_is_down_gives_a_clear_error_per_request_and_the_proxy_keeps_serving(
    queues: Queues,
) -> None:
    missing = queues.prefix + "not-yet"
    transport = sqs(queues, request_queue=missing)
    front = HttpFrontOptions(listen="http://127.0.0.1:0/mcp")
    async with http_front(transport, options=front, call_timeout=20) as url:
        errors = []
        for _ in range(2):
            async with Client(url, mode="2026-07-28") as client:
                with pytest.raises(MCPError) as failed:
                    await client.call_tool("echo", {"text": "anyone?"})
                errors.append(failed.value.error.message)
        async with httpx2.AsyncClient() as http:
            health = await http.get(url.removesuffix("/mcp") + "/health")

        queues.create(missing)  # the backend comes up: the same proxy now gets answers
        async with backend(as_lowlevel(demo), transport), Client(url, mode="2026-07-28") as client:
            echoed = await client.call_tool("echo", {"text": "there you are"})
    assert all("cannot reach the backend" in error and missing in error for error in errors)
    assert health.status_code == 200
    assert echoed.content[0].text == "there you are"
