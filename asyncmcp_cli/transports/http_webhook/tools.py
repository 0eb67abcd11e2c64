"""Which tools answer by webhook, and how clients can tell.

A tool answers by webhook when the server's configuration names it
(``--webhook-tool NAME`` / the ``webhook_tools`` option) or when it carries
``"io.asyncmcp/delivery": "webhook"`` in its ``_meta``, which `webhook_tool`
sets::

    from asyncmcp_cli.transports.http_webhook.tools import webhook_tool

    @webhook_tool(server)
    async def render_report(month: str) -> str: ...

Clients see the same mark in ``tools/list``: while the transport serves, the
server's ``tools/list`` handler is wrapped so that configured tools carry it
too. Tools marked in ``_meta`` are learned from ``MCPServer.list_tools()`` at
start (when the server is an `MCPServer`) and from every ``tools/list``
answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer

logger = logging.getLogger(__name__)

DELIVERY_META = "io.asyncmcp/delivery"
WEBHOOK = "webhook"


def webhook_tool(server: MCPServer, **tool_options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`server.tool(...)`, with the tool marked to answer by webhook."""
    meta = dict(tool_options.pop("meta", None) or {}) | {DELIVERY_META: WEBHOOK}
    return server.tool(meta=meta, **tool_options)


def is_marked(tool: types.Tool) -> bool:
    return (tool.meta or {}).get(DELIVERY_META) == WEBHOOK


class WebhookTools:
    """The names of the tools that answer by webhook."""

    def __init__(self, configured: Iterable[str] = ()) -> None:
        self.names: set[str] = {name for name in configured if name}

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def learn_and_mark(self, tools: list[types.Tool]) -> None:
        """Remember tools marked in `_meta`; mark the configured ones for clients to see."""
        for tool in tools:
            if is_marked(tool):
                self.names.add(tool.name)
            elif tool.name in self.names:
                tool.meta = dict(tool.meta or {}) | {DELIVERY_META: WEBHOOK}

    @asynccontextmanager
    async def installed(self, server: Server[Any]) -> AsyncIterator[WebhookTools]:
        """Wrap `server`'s ``tools/list`` handler while the block runs; restore it after."""
        entry = server.get_request_handler("tools/list")
        if entry is None:
            yield self
            return
        owner = getattr(entry.handler, "__self__", None)
        if isinstance(owner, MCPServer):
            self.learn_and_mark(await owner.list_tools())
        original = entry.handler

        async def list_tools(ctx: Any, params: Any) -> Any:
            result = await original(ctx, params)
            if isinstance(result, types.ListToolsResult):
                self.learn_and_mark(result.tools)
            return result

        server.add_request_handler("tools/list", entry.params_type, list_tools)
        try:
            yield self
        finally:
            server.add_request_handler("tools/list", entry.params_type, original)
