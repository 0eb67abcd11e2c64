"""A low-level MCP server for the tool-listing cache tests: the test sets its tool's schema and reads its requests.

``asyncmcp serve tests/cli/listingapp.py:server`` with ``LISTING_APP_DIR`` naming
a directory: ``schema.json`` there is the input schema of the one tool,
``total`` (read on every request, so the test can change it while the server
runs), and every request is appended to ``requests.log`` by method. A call
whose ``values`` do not have the schema's type is refused as invalid params.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError


def _state() -> Path:
    return Path(os.environ["LISTING_APP_DIR"])


def _schema() -> dict[str, Any]:
    return json.loads((_state() / "schema.json").read_text())


def _log(method: str) -> None:
    with (_state() / "requests.log").open("a") as log:
        log.write(method + "\n")


async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    _log("tools/list")
    tool = types.Tool(name="total", description="Add up the values.", input_schema=_schema())
    return types.ListToolsResult(tools=[tool])


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    _log("tools/call")
    values = (params.arguments or {}).get("values")
    wanted = _schema()["properties"]["values"]["type"]
    if wanted == "array" and isinstance(values, list):
        total = sum(int(v) for v in values)
    elif wanted == "string" and isinstance(values, str):
        total = sum(int(v) for v in values.split("+"))
    else:
        raise MCPError(types.INVALID_PARAMS, f"values must be of type {wanted}")
    return types.CallToolResult(content=[types.TextContent(type="text", text=str(total))])


server = Server("asyncmcp-listing-test", on_list_tools=list_tools, on_call_tool=call_tool)
