"""The default `asyncmcp provision local --transport sns+sqs` layout, used as the README shows.

Everything runs as real subprocesses against moto's server: `provision` writes
the profile, `serve` and `proxy` read it. The layout shares one reply topic,
each reply queue filtered on a client id prefix; every client session that
reads the queue (each proxy session, each `connect` process) must take a
fresh id under it, or the filter drops its answers and the server confuses
two clients that share an id.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client

from asyncmcp_cli.aws.local_aws import LocalEndpoint
from tests.cli.connect_support import CLI, ROOT, cli_env
from tests.cli.processes import running

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def env(moto: LocalEndpoint, tmp_path: Path) -> dict[str, str]:
    """A user's shell after `asyncmcp local`'s exports and `asyncmcp provision local --transport sns+sqs`."""
    env = cli_env(ASYNCMCP_CONFIG_DIR=str(tmp_path)) | moto.exports()
    prefix = f"p{uuid.uuid4().hex[:10]}"  # the default layout; only the names are this test's own
    done = subprocess.run(
        [*CLI, "provision", "local", "--transport", "sns+sqs", "--prefix", prefix],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return env


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[None]:
    with running("serve", "--transport", "sns+sqs", "--grace-period", "2", env=env):
        yield


def test_every_proxy_session_is_answered(env: dict[str, str], server: None) -> None:
    proxy = ("proxy", "--transport", "sns+sqs", "--listen", "http://127.0.0.1:0/mcp", "-o", "wait_seconds=2")
    with running(*proxy, env=env) as (_, lines):
        match = re.search(r"proxy (http://\S+)", "".join(lines))
        assert match, lines
        url = match.group(1)
        answers: dict[str, list[str]] = {}

        async def front_session(name: str, mode: str) -> None:
            async with Client(url, mode=mode) as client:  # type: ignore[arg-type]
                for n in range(3):
                    result = await client.call_tool("echo", {"text": f"{name}-{n}"})
                    answers.setdefault(name, []).append(result.content[0].text)  # type: ignore[union-attr]

        async def fronts() -> None:
            with anyio.fail_after(150):
                async with anyio.create_task_group() as tg:
                    # two handshake-era sessions (a backend lane each) and a stateless one (pooled lanes)
                    tg.start_soon(front_session, "legacy-a", "legacy")
                    tg.start_soon(front_session, "legacy-b", "legacy")
                    tg.start_soon(front_session, "modern", "2026-07-28")

        anyio.run(fronts)
    assert answers == {name: [f"{name}-{n}" for n in range(3)] for name in ("legacy-a", "legacy-b", "modern")}


def test_two_connect_processes_with_one_profile_are_each_answered(env: dict[str, str], server: None) -> None:
    texts = ("from-the-first", "from-the-second")
    processes = [
        subprocess.Popen(
            [*CLI, "connect", "call", "echo", f"text={text}", "--transport", "sns+sqs", "--timeout", "60"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for text in texts
    ]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        outputs.append((process.returncode, stdout.strip(), stderr))
    assert [(code, out) for code, out, _ in outputs] == [(0, text) for text in texts], outputs


def test_an_explicit_client_id_outside_the_prefix_is_one_clear_line(env: dict[str, str]) -> None:
    done = subprocess.run(
        [*CLI, "connect", "call", "echo", "text=x", "--transport", "sns+sqs", "--client-id", "squatter"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 3, done.stderr
    assert "'squatter' does not start with" in done.stderr and "-client-1.'" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0
