"""`asyncmcp connect --interactive` driven through a pseudo-terminal, as a person would use it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.cli.connect_support import RICH_STDIO, ROOT, cli_env, serving
from tests.conftest import Queues
from tests.servers import DEMO_STDIO

PROMPT = "mcp>"


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return tmp_path / "history"


def spawn_repl(history: Path, *options: str, queues: Queues | None = None) -> pexpect.spawn:
    env = cli_env(queues, ASYNCMCP_HISTORY=str(history), PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm")
    if queues is not None:
        options = (*options, "-o", "wait_seconds=1")  # see tests.cli.connect_support.connect
    child = pexpect.spawn(
        sys.executable,
        ["-m", "asyncmcp_cli", "connect", "--interactive", *options],
        env=env,
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 160),
    )
    child.expect("connected to")
    child.expect(PROMPT)
    return child


@pytest.fixture
def repl_closer() -> Iterator[list[pexpect.spawn]]:
    children: list[pexpect.spawn] = []
    yield children
    for child in children:
        if child.isalive():
            child.terminate(force=True)
        child.close()


def leave(child: pexpect.spawn) -> int:
    child.sendline("exit")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_completion_a_call_ctrl_c_and_exit_over_sqs(
    queues: Queues, tmp_path: Path, history: Path, repl_closer: list[pexpect.spawn]
) -> None:
    with serving(queues, tmp_path / "serve.log"):
        child = spawn_repl(history, queues=queues)
        repl_closer.append(child)

        # Tab completes the command, the tool name and each argument name: "ca⇥a⇥a⇥2 b⇥3" is "call add a=2 b=3"
        child.send("ca\t")
        child.expect("ll")
        child.send("a\t")
        child.expect("dd")
        child.send("a\t")
        child.expect("=")
        child.send("2 b\t")
        child.expect("=")
        child.send("3\r")
        child.expect(r"5\.0")
        child.expect(PROMPT)

        # Ctrl-C cancels the running call (progress was showing) and the REPL carries on
        child.sendline("call sleep seconds=30")
        child.expect(r"working \(0/30\)")
        child.sendintr()
        child.expect("cancelled")
        child.expect(PROMPT)
        child.sendline("add a=20 b=22")  # a tool name alone is a call
        child.expect(r"42\.0")
        child.expect(PROMPT)

        assert leave(child) == 0
    assert "call add a=2 b=3" in history.read_text()


def test_help_schema_mistakes_and_history_across_runs(history: Path, repl_closer: list[pexpect.spawn]) -> None:
    child = spawn_repl(history, "--stdio", DEMO_STDIO)
    repl_closer.append(child)
    child.sendline("help")
    child.expect(r"call TOOL \[KEY=VALUE\]")
    child.expect(PROMPT)
    child.sendline("schema sleep")
    child.expect("input schema")
    child.expect(PROMPT)
    child.sendline("cal add a=1 b=2")
    child.expect("unknown command 'cal'; did you mean 'call'")
    child.expect(PROMPT)
    child.sendline("call add a=one b=2")
    child.expect("'one' is not of type 'number'")
    child.expect(PROMPT)
    child.sendline("call add a=3 b=4")
    child.expect(r"7\.0")
    child.expect(PROMPT)
    child.sendcontrol("d")  # Ctrl-D leaves too
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    again = spawn_repl(history, "--stdio", DEMO_STDIO)
    repl_closer.append(again)
    again.send("\x1b[A")  # Up: the last command of the previous run
    again.send("\r")
    again.expect(r"7\.0")
    again.expect(PROMPT)
    assert leave(again) == 0


def test_server_messages_and_images_are_shown(history: Path, repl_closer: list[pexpect.spawn]) -> None:
    child = spawn_repl(history, "--stdio", RICH_STDIO)
    repl_closer.append(child)
    child.sendline("chatty times=2")
    child.expect("server info: step 1 of 2")
    child.expect("server info: step 2 of 2")
    child.expect("done talking")
    child.expect(PROMPT)
    child.sendline("picture")
    child.expect(r"\[image image/png, 66 bytes\]")
    child.expect(PROMPT)
    child.sendline("read rich://items/7")
    child.expect('"item 7"')
    child.expect(PROMPT)
    assert leave(child) == 0
