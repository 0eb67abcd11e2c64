"""FastMCP's task client (fastmcp-tasks) against an MCP server URL: prints what it saw as one JSON line.

``python fastmcp_tasks_client.py URL TOOL JSON_ARGUMENTS`` starts TOOL as a
task with `call_tool_task`, reads its status once, waits for its result, and
then calls the tool again the plain way (FastMCP follows a task transparently).
Run as a subprocess by the interop tests, so FastMCP's global client hooks stay
out of the test process.
"""

from __future__ import annotations

import asyncio
import json
import sys

from fastmcp import Client
from fastmcp_tasks import call_tool_task


async def main(url: str, tool: str, arguments: dict) -> None:
    async with Client(url) as client:
        task = await call_tool_task(client, tool, arguments, timeout=60)
        created = task.create_result
        first = await task.status()
        result = await asyncio.wait_for(task.result(), 60)
        transparent = await asyncio.wait_for(client.call_tool(tool, arguments), 60)
    print(
        json.dumps(
            {
                "task_id": task.task_id,
                "created_status": created.status,
                "first_status": first.status,
                "text": result.content[0].text,
                "transparent_text": transparent.content[0].text,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
