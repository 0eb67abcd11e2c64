"""An MCP server of your own, served over SQS with no change to its code.

    asyncmcp serve examples/weather_server.py:server --transport sqs

`forecast` stands in for slow work (a batch job, a third-party API): over a
queue, the client does not hold a connection open while it runs.
"""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("weather", instructions="Forecasts that take a while to compute.")


@server.tool()
async def forecast(city: str, days: int = 3, ctx: Context | None = None) -> str:
    """A made-up forecast for `city`, computed slowly (one second per day)."""
    for day in range(days):
        if ctx is not None:
            await ctx.report_progress(day, days, f"day {day + 1} of {days}")
        await anyio.sleep(1)
    return f"{city}: sunny for the next {days} days"


@server.tool()
def cities() -> list[str]:
    """The cities this server knows."""
    return ["Lisbon", "Oslo", "Nairobi"]
