"""`task_tool`: declare a tool of an `MCPServer` as one that runs as a task.

    from mcp.server.mcpserver import MCPServer
    from asyncmcp_cli.tasks import task_tool

    mcp = MCPServer("reports")

    @task_tool(mcp)                      # like @mcp.tool(), plus the declaration
    async def build_report(month: str) -> str: ...

The declaration is the tool's ``_meta["io.asyncmcp/taskSupport"]`` (shown in
``tools/list``); a server with tasks enabled (``asyncmcp serve`` does it, or
`enable_tasks`) reads it from there. ``support="required"`` refuses callers
without the tasks capability (``-32021``); ``"optional"`` serves them the
ordinary blocking call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asyncmcp_cli.tasks import wire


def task_tool(server: Any, *, support: wire.TaskSupport = "optional", **tool_options: Any) -> Callable[[Any], Any]:
    """`server.tool(**tool_options)` with the task declaration added to the tool's ``_meta``."""
    if support not in ("optional", "required"):
        raise ValueError(f"support must be 'optional' or 'required', got {support!r}")
    meta = {**(tool_options.pop("meta", None) or {}), wire.TOOL_TASK_SUPPORT_META_KEY: support}
    return server.tool(meta=meta, **tool_options)
