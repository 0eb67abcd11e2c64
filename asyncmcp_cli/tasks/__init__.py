"""The MCP Tasks extension (``io.modelcontextprotocol/tasks``) over asynchronous transports.

`wire` holds the protocol shapes (pydantic only, importable by clients); the
store and server runtime live in their own modules and are imported only where
they are used.
"""

from asyncmcp_cli.tasks.decorator import task_tool

__all__ = ["task_tool"]
