"""Servers named in a config file (the desktop hosts' mcpServers format), for connect, serve and proxy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.cli.connect_support import CLI, ROOT, cli_env, connect
from tests.cli.processes import proxying, serving
from tests.cli.recording_server import recording_server
from tests.conftest import Queues

pytestmark = pytest.mark.timeout(180)  # several CLI processes per test, on a machine that may be busy

DEMO = {"command": "python", "args": ["-m", "asyncmcp_cli.demo_stdio"], "env": {"DEMO_UNUSED": "1"}}


def write_config(path: Path, servers: Any) -> str:
    path.write_text(json.dumps({"mcpServers": servers}))
    return str(path)


def test_a_named_stdio_server_is_started_with_its_args(tmp_path: Path) -> None:
    config = write_config(tmp_path / "mcp.json", {"demo": DEMO})
    called = connect(None, "call", "add", "a=1", "b=2", "--transport", "demo", "--config", config)
    assert called.returncode == 0, called.stderr
    assert called.stdout == "3.0\n"


@pytest.mark.anyio
async def test_a_named_http_server_is_sent_its_headers_and_the_command_lines(tmp_path: Path) -> None:
    async with recording_server() as server:
        config = write_config(tmp_path / "mcp.json", {"rec": {"url": server.url, "headers": {"X-From": "config"}}})
        with anyio.fail_after(40):
            listed = await anyio.run_process(
                [*CLI, "connect", "tools", "-t", "rec", "-H", "X-Extra: 1"],
                env=cli_env(ASYNCMCP_CONFIG=config),  # the variable works as --config does
                cwd=ROOT,
                check=False,
            )
    assert listed.returncode == 0, listed.stderr
    assert server.headers
    assert all(h.get("x-from") == "config" and h.get("x-extra") == "1" for h in server.headers)


def test_serve_and_proxy_take_servers_by_name(queues: Queues, tmp_path: Path) -> None:
    queue_url = f"sqs://{queues.request}?reply_queue={queues.reply}"
    config = write_config(tmp_path / "mcp.json", {"demo": DEMO, "behind-sqs": {"url": queue_url}})
    with (
        serving(queues, "--upstream", "demo", "--config", config) as served,
        proxying(queues, "--transport", "behind-sqs", "--config", config) as (proxy_url, _),
    ):
        assert any("serving asyncmcp-demo" in line for line in served), served
        through_proxy = connect(None, "call", "add", "a=2", "b=40", "--transport", proxy_url)
        direct = connect(queues, "call", "add", "a=1", "b=1", "-t", "behind-sqs", "--config", config)
    assert through_proxy.returncode == 0, through_proxy.stderr
    assert through_proxy.stdout == "42.0\n"
    assert direct.returncode == 0, direct.stderr
    assert direct.stdout == "2.0\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the server config"),
        ("{not json", "is not JSON"),
        (json.dumps({"servers": {}}), 'has no "mcpServers" object'),
        (json.dumps({"mcpServers": {"a": {"args": []}}}), "server 'a' in"),
        (json.dumps({"mcpServers": {"a": {"command": "x", "url": "http://h/mcp"}}}), "needs exactly one of"),
        (json.dumps({"mcpServers": {"a": {"command": "x", "args": "-v"}}}), '"args" must be a list of strings'),
        (json.dumps({"mcpServers": {"a": {"command": "x", "env": {"N": 1}}}}), '"env" must be an object of strings'),
        (json.dumps({"mcpServers": {"a": {"url": "not a url"}}}), '"url" must be a URL'),
        (json.dumps({"mcpServers": {"b": DEMO}}), "no server named 'a'"),
        (json.dumps({"mcpServers": {"aa": DEMO}}), "did you mean 'aa'?"),
    ],
)
def test_config_mistakes_are_one_line_usage_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "mcp.json"
    if content is not None:
        path.write_text(content)
    listed = connect(None, "tools", "--transport", "a", "--config", str(path))
    assert listed.returncode == 2, listed.stderr
    assert message in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1, listed.stderr


def test_serve_refuses_a_named_server_that_is_itself_behind_a_transport(tmp_path: Path) -> None:
    config = write_config(tmp_path / "mcp.json", {"q": {"url": "sqs://somewhere"}})
    refused = subprocess.run(
        [*CLI, "serve", "--upstream", "q", "--config", config, "-t", "memory"],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=40,
    )
    assert refused.returncode == 2
    assert "'q' is a server behind an asyncmcp transport" in refused.stderr
    assert "Traceback" not in refused.stderr
