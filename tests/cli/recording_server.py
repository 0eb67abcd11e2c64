"""A streamable HTTP MCP server (uvicorn on 127.0.0.1) that records what clients send it.

For the client options that only show on the wire: the headers of every HTTP
request (``--header``, a config entry's ``headers``) and the levels asked for
with ``logging/setLevel`` (``--server-log``, the REPL's ``loglevel``).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPDeprecationWarning

from asyncmcp_cli.transports.webhook.serving import serve_asgi


@dataclass
class Recorded:
    url: str = ""
    headers: list[dict[str, str]] = field(default_factory=list)
    """One dict per HTTP request, names in lower case."""
    levels: list[str] = field(default_factory=list)


def _server(recorded: Recorded) -> Server[Any]:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
        return types.ListToolsResult(tools=[types.Tool(name="echo", input_schema=schema)])

    async def set_level(ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        recorded.levels.append(params.level)
        return types.EmptyResult()

    with warnings.catch_warnings():  # "logging is deprecated as of 2026-07-28": handshake-era servers still use it
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        return Server("recorder", on_list_tools=list_tools, on_set_logging_level=set_level)


@asynccontextmanager
async def recording_server() -> AsyncIterator[Recorded]:
    """The server at ``Recorded.url`` for the duration of the block."""
    recorded = Recorded()
    manager = StreamableHTTPSessionManager(app=_server(recorded))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            recorded.headers.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
            await manager.handle_request(scope, receive, send)

    async with manager.run(), serve_asgi(app, "127.0.0.1", 0, graceful_seconds=1) as bound:
        recorded.url = f"http://127.0.0.1:{bound.port}/mcp"
        yield recorded
