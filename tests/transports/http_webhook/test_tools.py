"""Which tools answer by webhook: configuration, the decorator, and the tools/list wrapper."""

from __future__ import annotations

import mcp_types as types
import pytest
from mcp.server.mcpserver import MCPServer

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.transports.http_webhook.tools import DELIVERY_META, WebhookTools, webhook_tool

pytestmark = pytest.mark.anyio


def server() -> MCPServer:
    mcp = MCPServer("tools-test")

    @mcp.tool()
    def fast() -> str:
        return "fast"

    @webhook_tool(mcp, meta={"owner": "reports"})
    def decorated() -> str:
        return "slow"

    return mcp


async def test_the_decorator_marks_the_tool_and_keeps_its_meta() -> None:
    tools = {tool.name: tool for tool in await server().list_tools()}
    assert tools["decorated"].meta == {"owner": "reports", DELIVERY_META: "webhook"}
    assert not tools["fast"].meta


async def test_installed_learns_marked_tools_and_restores_the_handler() -> None:
    lowlevel = as_lowlevel(server())
    original = lowlevel.get_request_handler("tools/list")
    tools = WebhookTools(["configured"])
    async with tools.installed(lowlevel):
        assert "decorated" in tools  # learned from MCPServer.list_tools() at start
        assert "configured" in tools
        assert "fast" not in tools
        assert lowlevel.get_request_handler("tools/list") is not original
    assert lowlevel.get_request_handler("tools/list") == original


def test_configured_tools_are_marked_for_clients() -> None:
    listed = [types.Tool(name="report", input_schema={"type": "object"}), types.Tool(name="echo", input_schema={})]
    WebhookTools(["report"]).learn_and_mark(listed)
    assert listed[0].meta == {DELIVERY_META: "webhook"}
    assert listed[1].meta is None
