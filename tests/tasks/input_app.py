"""A server whose one task tool asks for input (an SDK `Elicit` resolver): for `asyncmcp connect task update`.

Served as ``asyncmcp serve tests.tasks.input_app:server --task-store ...``.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import BaseModel

from asyncmcp_cli.tasks import task_tool

server = MCPServer("asyncmcp-input-test")


class Name(BaseModel):
    name: str


async def ask_name() -> Elicit[Name]:
    return Elicit("Please enter your name.", Name)


@task_tool(server)
async def hello(name: Annotated[Name, Resolve(ask_name)]) -> str:
    """Greets whoever the client says it is."""
    return f"Hello, {name.name}!"
