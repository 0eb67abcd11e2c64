"""An ordinary stdio MCP server for the upstream tests, run as a real subprocess.

Tools whose behaviour the tests steer: a slow tool that reports progress, its
own pid (so a test can kill it), a log line, an elicitation, a sampling
request, a crash. It says
hello on stderr at start-up, as many servers do.
"""

from __future__ import annotations

import os
import sys

import anyio
import mcp_types as types
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

server = MCPServer("test-upstream", version="1.2.3", instructions="A test server run as a subprocess.")


@server.tool()
def echo(text: str) -> str:
    return text


@server.tool()
def pid() -> int:
    return os.getpid()


@server.tool()
async def slow(seconds: float, ctx: Context) -> str:
    steps = max(1, int(seconds * 4))
    for step in range(steps):
        await ctx.report_progress(step + 1, steps, f"step {step + 1}")
        await anyio.sleep(seconds / steps)
    return f"slept {seconds:g}"


@server.tool()
async def shout(text: str, ctx: Context) -> str:
    await ctx.warning(f"shouting {text}")
    return text.upper()


class Answer(BaseModel):
    answer: str


@server.tool()
async def ask(question: str, ctx: Context) -> str:
    result = await ctx.elicit(question, Answer)
    return f"{result.action}:{result.data.answer if result.data else ''}"


@server.tool()
async def sample(prompt: str, ctx: Context) -> str:
    result = await ctx.session.create_message(
        [types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))], max_tokens=50
    )
    return result.content.text if isinstance(result.content, types.TextContent) else "?"


@server.tool()
def crash() -> str:
    os._exit(3)


if __name__ == "__main__":
    print(f"test upstream {os.getpid()} starting", file=sys.stderr, flush=True)
    server.run()
