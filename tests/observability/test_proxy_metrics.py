"""`proxy --metrics`: the proxy counts what its MCP clients ask of the backend, scraped over HTTP."""

from __future__ import annotations

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.cli.processes import proxying, serving
from tests.conftest import Queues
from tests.observability.support import metrics_url, scrape, value


@pytest.mark.timeout(120)
def test_the_proxy_counts_its_clients_requests_by_method(queues: Queues) -> None:
    calls = 10
    with serving(queues), proxying(queues, "--metrics", "127.0.0.1:0") as (url, lines):
        base = metrics_url(lines)
        assert httpx2.get(base + "/healthz", timeout=10).status_code == 200
        assert httpx2.get(base + "/readyz", timeout=10).json() == {"status": "ready"}

        async def use() -> None:
            async with Client(url) as client:
                async with anyio.create_task_group() as tg:
                    for n in range(calls):
                        tg.start_soon(client.call_tool, "echo", {"text": f"call-{n}"})
                with pytest.raises(MCPError):
                    await client.get_prompt("no-such-prompt")

        anyio.run(use)
        samples = scrape(base)
    assert value(samples, "asyncmcp_requests_received_total", transport="sqs", method="tools/call") == calls
    assert value(samples, "asyncmcp_requests_answered_total", transport="sqs", method="tools/call") == calls
    assert value(samples, "asyncmcp_requests_failed_total", transport="sqs", method="tools/call") == 0
    assert value(samples, "asyncmcp_requests_failed_total", transport="sqs", method="prompts/get") == 1
    assert value(samples, "asyncmcp_request_duration_seconds_count", transport="sqs", method="tools/call") == calls
    assert value(samples, "asyncmcp_requests_in_flight", transport="sqs") == 0
