"""`mcp-server-time` (PyPI) served over SQS and called through `asyncmcp proxy` by an SDK client."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp import Client

from tests.cli.processes import proxying, serving
from tests.conftest import Queues
from tests.interop.peers import python_peer


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_an_sdk_client_gets_the_time_through_the_proxy(queues: Queues, mode: str) -> None:
    time_server = python_peer("mcp-server-time", "mcp-server-time")
    with serving(queues, "--", time_server, "--local-timezone", "UTC"), proxying(queues) as (url, _):

        async def ask() -> tuple[list[str], dict[str, object]]:
            async with Client(url, mode=mode) as client:
                tools = await client.list_tools()
                result = await client.call_tool("get_current_time", {"timezone": "Europe/Paris"})
            return [tool.name for tool in tools.tools], json.loads(result.content[0].text)

        names, now = anyio.run(ask)
    assert {"get_current_time", "convert_time"} <= set(names)
    assert now["timezone"] == "Europe/Paris"
    assert "datetime" in now
