"""What MCP Inspector and fastmcp users reach for: --header, ping, raw requests, logging/setLevel.

The client runs as a real subprocess; the servers are the demo over stdio and
SQS, and an HTTP server that records what arrives on the wire.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import anyio
import pytest

from asyncmcp_cli.aws.local_aws import LocalEndpoint
from tests.cli.connect_support import CLI, ROOT, cli_env, connect, fresh_queues, serving
from tests.cli.recording_server import recording_server
from tests.conftest import Queues
from tests.servers import DEMO_STDIO

pytestmark = pytest.mark.timeout(180)  # several CLI processes per test, on a machine that may be busy

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """`asyncmcp ARGS...` without blocking the loop the in-test server runs on."""
    with anyio.fail_after(40):
        return await anyio.run_process(
            [*CLI, *args], input=stdin.encode() if stdin else None, env=cli_env(), cwd=ROOT, check=False
        )


# -- --header -----------------------------------------------------------------


@pytest.mark.anyio
async def test_headers_reach_a_streamable_http_server_on_every_request() -> None:
    async with recording_server() as server:
        listed = await run_cli(
            "connect", "tools", "--transport", server.url, "-H", "X-Api-Key: s3cret", "--header", "X-Team:  blue "
        )
    assert listed.returncode == 0, listed.stderr
    assert b"echo" in listed.stdout
    assert len(server.headers) >= 2  # at least the handshake and the listing
    assert all(h.get("x-api-key") == "s3cret" and h.get("x-team") == "blue" for h in server.headers)


@pytest.mark.anyio
async def test_headers_reach_an_http_webhook_server_under_asyncmcps_own() -> None:
    async with recording_server() as server:
        target = server.url.replace("http://", "http+webhook://")
        listed = await run_cli(
            "connect", "tools", "--transport", target, "--webhook-secret", SECRET, "-H", "Authorization: Bearer t0k"
        )
    assert listed.returncode == 0, listed.stderr
    assert server.headers
    assert all(h.get("authorization") == "Bearer t0k" and "asyncmcp-client-id" in h for h in server.headers)


def test_a_header_for_a_target_that_is_not_http_is_a_usage_error() -> None:
    stdio = connect(None, "tools", "--stdio", DEMO_STDIO, "-H", "X-A: b")
    assert stdio.returncode == 2
    assert "--header is for HTTP servers" in stdio.stderr and "Traceback" not in stdio.stderr
    malformed = connect(None, "tools", "--transport", "http://127.0.0.1:9/mcp", "-H", "no colon")
    assert malformed.returncode == 2
    assert "--header 'no colon' is not 'Name: value'" in malformed.stderr


# -- logging/setLevel -----------------------------------------------------------


@pytest.mark.anyio
async def test_server_log_sends_set_level_to_a_handshake_era_server() -> None:
    async with recording_server() as server:
        listed = await run_cli(
            "connect", "tools", "--transport", server.url, "--era", "handshake", "--server-log", "debug"
        )
        quiet = await run_cli(
            "connect", "tools", "--transport", server.url, "--era", "handshake", "--server-log", "off"
        )
    assert listed.returncode == 0 and quiet.returncode == 0, (listed.stderr, quiet.stderr)
    assert server.levels == ["debug"]
    assert b"Deprecat" not in listed.stderr


@pytest.mark.anyio
async def test_the_repl_sets_the_servers_log_level() -> None:
    async with recording_server() as server:
        session = await run_cli(
            "connect", "-i", "--transport", server.url, "--era", "handshake", "--server-log", "off",
            stdin="loglevel warning\nloglevel loud\n",
        )  # fmt: skip
    assert server.levels == ["warning"]
    assert b"server log level: warning" in session.stdout
    assert b"unknown log level 'loud'" in session.stdout
    assert session.returncode == 2  # piped, and one line failed


# -- ping and raw ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(moto: LocalEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Queues]:
    queues = fresh_queues(moto)
    with serving(queues, tmp_path_factory.mktemp("demo") / "serve.log"):
        yield queues


@pytest.mark.parametrize("era", ["handshake", "stateless"])
def test_ping_over_stdio_in_either_era(era: str) -> None:
    pinged = connect(None, "ping", "--stdio", DEMO_STDIO, "--era", era)
    assert pinged.returncode == 0, pinged.stderr
    assert pinged.stdout.startswith("pong in ") and pinged.stdout.endswith(" ms\n")
    assert "Deprecat" not in pinged.stderr


def test_ping_over_sqs_as_json(demo: Queues) -> None:
    pinged = connect(demo, "ping", "--json")
    assert pinged.returncode == 0, pinged.stderr
    answer = json.loads(pinged.stdout)
    assert answer["ok"] is True and answer["ms"] > 0


def test_raw_requests_print_the_result_the_server_sent(demo: Queues) -> None:
    listed = connect(demo, "raw", "tools/list")
    assert listed.returncode == 0, listed.stderr
    assert {tool["name"] for tool in json.loads(listed.stdout)["tools"]} == {"echo", "add", "sleep", "fail"}

    called = connect(demo, "raw", "tools/call", "--params", '{"name": "add", "arguments": {"a": 1, "b": 2}}')
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["structuredContent"] == {"result": 3.0}


def test_raw_mistakes_are_usage_errors_and_server_errors_exit_6() -> None:
    for params, message in (("{nope", "--params is not valid JSON"), ("[1]", "--params must be a JSON object")):
        bad = connect(None, "raw", "tools/call", "--params", params, "--stdio", DEMO_STDIO)
        assert bad.returncode == 2 and message in bad.stderr
    unknown = connect(None, "raw", "no/such/method", "--stdio", DEMO_STDIO)
    assert unknown.returncode == 6
    assert "Method not found" in unknown.stderr and "Traceback" not in unknown.stderr


def test_the_repl_pings_and_sends_raw_requests() -> None:
    session = subprocess.run(
        [*CLI, "connect", "-i", "--stdio", DEMO_STDIO],
        input='ping\nraw prompts/get \'{"name": "summarize", "arguments": {"topic": "queues"}}\'\n',
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=40,
    )
    assert session.returncode == 0, session.stdout + session.stderr
    assert "pong in " in session.stdout
    assert "Summarize queues in three sentences." in session.stdout


def test_python_here_is_the_interpreter_even_when_the_venv_is_not_on_path() -> None:
    env = cli_env() | {"PATH": "/usr/bin:/bin"}
    called = subprocess.run(
        [*CLI, "connect", "call", "add", "a=1", "b=2", "--stdio", "python -m asyncmcp_cli.demo_stdio"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=40,
    )
    assert called.returncode == 0, called.stderr
    assert called.stdout == "3.0\n"
    assert sys.executable  # the CLI's own interpreter, which is not on that PATH
