"""An MCP server with richer schemas than the demo, for the `connect` tests.

Typed arguments (integers, booleans, arrays, objects, enums, optionals), a
tool that logs, one that returns an image, a resource template and a prompt
with an optional argument. Run over stdio with ``python tests/cli/richapp.py``
or over a queue with ``asyncmcp serve tests/cli/richapp.py:server``.
"""

from __future__ import annotations

import json
import warnings
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.types import Image
from mcp.shared.exceptions import MCPDeprecationWarning
from pydantic import BaseModel

server = MCPServer("asyncmcp-rich")

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class Point(BaseModel):
    x: int
    y: int


@server.tool()
def inspect_args(
    count: int,
    ratio: float = 1.0,
    flag: bool = False,
    tags: list[str] | None = None,
    numbers: list[int] | None = None,
    point: Point | None = None,
    mode: Literal["fast", "slow"] = "fast",
    note: str | None = None,
) -> str:
    """Echo the arguments back as JSON, with their Python types."""
    received = {
        "count": count,
        "ratio": ratio,
        "flag": flag,
        "tags": tags,
        "numbers": numbers,
        "point": point.model_dump() if point else None,
        "mode": mode,
        "note": note,
    }
    return json.dumps({"values": received, "types": {k: type(v).__name__ for k, v in received.items()}})


@server.tool()
async def chatty(times: int, ctx: Context) -> str:
    """Log `times` messages at info level, then answer."""
    with warnings.catch_warnings():  # the SDK marks logging deprecated in the 2026-07-28 era; still supported
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        for n in range(times):
            await ctx.info(f"step {n + 1} of {times}")
    return "done talking"


@server.tool()
def picture() -> Image:
    """A one-pixel PNG."""
    return Image(data=PNG, format="png")


@server.resource("rich://items/{item_id}", mime_type="application/json")
def item(item_id: str) -> str:
    """One item by id."""
    return json.dumps({"id": item_id, "name": f"item {item_id}"})


@server.prompt()
def greet(name: str, style: str = "plain") -> str:
    """Greet someone."""
    return f"Say hello to {name} in a {style} way."


if __name__ == "__main__":
    server.run("stdio")
