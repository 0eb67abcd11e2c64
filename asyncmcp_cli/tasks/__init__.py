"""The MCP Tasks extension (``io.modelcontextprotocol/tasks``) over asynchronous transports.

`wire` holds the protocol shapes (pydantic only, importable by clients); the
store and server runtime live in their own modules and are imported only where
they are used. `task_tool` is loaded on first use (it needs the SDK's server), so
importing a light module of the package, such as `store`, does not load the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncmcp_cli.tasks.decorator import task_tool

__all__ = ["task_tool"]


def __getattr__(name: str) -> Any:
    if name == "task_tool":
        from asyncmcp_cli.tasks.decorator import task_tool

        return task_tool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
