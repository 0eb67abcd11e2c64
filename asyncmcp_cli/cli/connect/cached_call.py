"""A one-shot `tools/call` with the tool's schema from the cache: one round trip when nothing has changed.

The listing cached by an earlier command (`tool_cache`) converts the
arguments, and the call goes out at once. Because the cached listing may be
out of date, it is fetched again (one `tools/list`) when:

- the tool is not in it, or the arguments do not fit its schema (before
  sending: a real typo is then reported against the fresh listing);
- the server refuses the call as invalid params: the tool did not run, so
  when the fresh schema differs the arguments are converted again and the call
  is sent once more;
- the tool reports an error: it may have run, so nothing is resent; when its
  schema had changed, the user is told to run the call again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from asyncmcp_cli.cli.connect.activity import Activity
from asyncmcp_cli.cli.connect.tool_cache import ListingCache
from asyncmcp_cli.errors import UsageError
from asyncmcp_cli.protocol.arguments import UnknownNameError, build_arguments
from asyncmcp_cli.protocol.catalog import Catalog


class RememberingCatalog(Catalog):
    """A `Catalog` whose tool listing comes from the cache when it can, and goes into it when fetched."""

    def __init__(self, client: Client, listings: ListingCache) -> None:
        super().__init__(client)
        self.listings = listings

    async def tools(self, *, refresh: bool = False) -> list[types.Tool]:
        self.listings.served = False
        tools = await super().tools(refresh=refresh)
        if not self.listings.served:  # it came from the server
            self.listings.store(tools)
        return tools

    def from_cache(self) -> bool:
        """Whether the tools in hand are the cached listing (not fetched in this run)."""
        return self.listings.served


async def call_tool(
    mcp: Client,
    catalog: RememberingCatalog,
    activity: Activity,
    name: str,
    pairs: Sequence[str],
    args_json: str | None,
    notes: list[str],
) -> types.CallToolResult:
    """Call `name` with arguments converted by its (cached, if known) schema; see the module docstring.

    `notes` receives lines for the user (a schema that changed under an error).
    """
    with activity.running("listing tools"):
        tools = await catalog.tools()
    tool = _find(tools, name)
    if catalog.from_cache() and tool is None:
        tool = _find(await _relist(catalog, activity), name)
    if tool is None:
        raise UnknownNameError("tool", name, [t.name for t in catalog.cached_tools])
    try:
        arguments = build_arguments(pairs, args_json=args_json, schema=tool.input_schema, name=name)
    except UsageError:
        if not catalog.from_cache():
            raise
        tool = await _fresh(catalog, activity, name)
        arguments = build_arguments(pairs, args_json=args_json, schema=tool.input_schema, name=name)

    cached = catalog.from_cache()
    try:
        with activity.running(f"calling {name}"):
            result = await mcp.call_tool(name, arguments, progress_callback=activity.progress)
    except MCPError as exc:
        if not cached or exc.error.code != INVALID_PARAMS:
            raise
        fresh = await _fresh(catalog, activity, name)
        if fresh.input_schema == tool.input_schema:
            raise
        arguments = build_arguments(pairs, args_json=args_json, schema=fresh.input_schema, name=name)
        with activity.running(f"calling {name}"):
            return await mcp.call_tool(name, arguments, progress_callback=activity.progress)
    if result.is_error and cached:
        fresh = _find(await _relist(catalog, activity), name)
        if fresh is None or fresh.input_schema != tool.input_schema:
            notes.append(
                f"the tool's arguments had changed on the server since they were cached here; "
                f"the listing is refreshed: run the call again (`connect schema {name}` shows them)"
            )
    return result


async def _relist(catalog: RememberingCatalog, activity: Activity) -> list[types.Tool]:
    with activity.running("listing tools"):
        return await catalog.tools(refresh=True)


async def _fresh(catalog: RememberingCatalog, activity: Activity, name: str) -> types.Tool:
    tools = await _relist(catalog, activity)
    tool = _find(tools, name)
    if tool is None:
        raise UnknownNameError("tool", name, [t.name for t in tools])
    return tool


def _find(tools: Sequence[types.Tool], name: str) -> types.Tool | None:
    return next((tool for tool in tools if tool.name == name), None)


def listing_cache_for(described: dict[str, Any]) -> ListingCache:
    from asyncmcp_cli.cli.connect.tool_cache import server_key

    return ListingCache(server_key(described))
