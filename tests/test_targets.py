"""Reaching ordinary MCP servers (stdio, streamable HTTP) and registry transports through one client."""

from __future__ import annotations

import os
import sys

import pytest

from asyncmcp_cli.errors import ConfigurationError, EndpointUnreachableError
from asyncmcp_cli.targets import Target, is_http_url, open_target, resolve_target
from tests.servers import DEMO_STDIO, free_port, http_demo_server

pytestmark = pytest.mark.anyio


async def test_an_ordinary_stdio_server_in_every_era() -> None:
    target = Target.for_stdio(DEMO_STDIO)
    assert target.default_era == "auto"
    for era in ("auto", "handshake", "stateless"):
        async with open_target(target, era=era, timeout=20) as client:
            result = await client.call_tool("add", {"a": 2, "b": 3})
        assert result.content[0].text == "5.0", era


async def test_an_ordinary_streamable_http_server() -> None:
    with http_demo_server() as url:
        async with open_target(Target.for_url(url), timeout=20) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            echoed = await client.call_tool("echo", {"text": "over http"})
    assert tools >= {"echo", "add", "sleep", "fail"}
    assert echoed.content[0].text == "over http"


async def test_a_missing_command_is_unreachable() -> None:
    with pytest.raises(EndpointUnreachableError, match="no-such-mcp-server"):
        async with open_target(Target.for_stdio("no-such-mcp-server --flag"), timeout=5):
            pass


async def test_a_server_that_exits_at_once_is_unreachable() -> None:
    with pytest.raises(EndpointUnreachableError, match="closed the connection"):
        async with open_target(Target.for_stdio(f"{sys.executable} -c pass"), timeout=10):
            pass


async def test_a_url_nobody_listens_on_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    with pytest.raises(EndpointUnreachableError, match="cannot reach"):
        async with open_target(Target.for_url(url), timeout=5):
            pass


def test_stdio_wins_then_http_urls_then_the_registry() -> None:
    assert resolve_target("sqs", stdio="server --port 1").kind == "stdio"
    assert resolve_target("https://example.invalid/mcp").kind == "http"
    memory = resolve_target("memory://targets-test")
    assert memory.kind == "transport"
    assert memory.label() == "memory targets-test"


def test_stdio_commands_are_split_like_a_shell_would() -> None:
    target = Target.for_stdio("uvx -m 'my server' --name=\"a b\"", env={"TOKEN": "x"})
    assert target.stdio is not None
    assert [target.stdio.command, *target.stdio.args] == ["uvx", "-m", "my server", "--name=a b"]
    assert target.stdio.env is not None
    assert target.stdio.env["TOKEN"] == "x"
    assert target.stdio.env["PATH"] == os.environ["PATH"]  # inherited, as from a shell
    assert target.describe() == {"transport": "stdio", "command": "uvx -m 'my server' '--name=a b'"}


@pytest.mark.parametrize("word", ["python", "python3"])
def test_a_bare_python_is_the_interpreter_running_asyncmcp(word: str) -> None:
    """So `--stdio "python -m asyncmcp_cli.demo_stdio"` works from a virtualenv that is not on PATH."""
    target = Target.for_stdio(f"{word} -m asyncmcp_cli.demo_stdio")
    assert target.stdio is not None
    assert target.stdio.command == sys.executable
    assert Target.for_stdio("python3.99 x").stdio.command == "python3.99"  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["", "unterminated 'quote"])
def test_unusable_stdio_commands_are_configuration_errors(command: str) -> None:
    with pytest.raises(ConfigurationError, match="--stdio"):
        Target.for_stdio(command)


def test_what_counts_as_an_http_url() -> None:
    assert is_http_url("http://localhost:8000/mcp")
    assert is_http_url("https://example.invalid/mcp")
    assert not is_http_url("sqs://queue")
    assert not is_http_url("http+webhook://host")
    with pytest.raises(ConfigurationError):
        Target.for_url("sqs://queue")
