"""Friction and polish: argument names, piped REPL exit codes, one line per event, whole lines in a pipe.

Everything runs as a real subprocess with its output going to a pipe, as in a
script or CI, and (unless a test says otherwise) without ``COLUMNS``: Rich must
not wrap or cut anything at the 80 columns it assumes for a pipe.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cli.connect_support import CLI, RICH_STDIO, ROOT, cli_env
from tests.conftest import Queues, wait_until_sync
from tests.servers import DEMO_STDIO

pytestmark = pytest.mark.timeout(180)  # several CLI processes per test, on a machine that may be busy


def piped_env(queues: Queues | None = None) -> dict[str, str]:
    env = cli_env(queues)
    env.pop("COLUMNS")
    return env


def asyncmcp(*args: str, stdin: str | None = None, queues: Queues | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, env=piped_env(queues), cwd=ROOT, timeout=40
    )


# -- argument names ---------------------------------------------------------------


def test_a_mistyped_argument_name_gets_a_did_you_mean_and_nothing_is_sent() -> None:
    typo = asyncmcp("connect", "call", "add", "a=1", "c=2", "--stdio", DEMO_STDIO)
    assert typo.returncode == 2
    assert "unknown argument 'c'; did you mean 'b'?" in typo.stderr
    assert "missing required argument 'b'" not in typo.stderr  # said once, as the suggestion

    extra = asyncmcp("connect", "call", "add", "a=1", "b=2", "c=3", "--stdio", DEMO_STDIO)
    assert extra.returncode == 2, extra.stdout
    assert "unknown argument 'c' (it takes: a, b)" in extra.stderr
    assert extra.stdout == ""


# -- a piped REPL -------------------------------------------------------------------


def test_a_piped_repl_exits_with_the_code_of_its_first_failed_line() -> None:
    failed = asyncmcp("connect", "-i", "--stdio", DEMO_STDIO, stdin="call add a=1 b=2\ncall add a=1 c=2\nnope\n")
    assert "3.0" in failed.stdout  # the lines after a failure still ran
    assert failed.returncode == 2, failed.stdout + failed.stderr

    tool_error = asyncmcp("connect", "-i", "--stdio", DEMO_STDIO, stdin="call fail\ncall add a=1 b=2\n")
    assert tool_error.returncode == 1, tool_error.stdout + tool_error.stderr

    fine = asyncmcp("connect", "-i", "--stdio", DEMO_STDIO, stdin="call add a=1 b=2\n")
    assert fine.returncode == 0, fine.stdout + fine.stderr


# -- listings: plurals, one mark for optional arguments, whole lines ------------------


def test_listings_count_in_good_english_and_mark_optional_arguments_alike() -> None:
    prompts = asyncmcp("connect", "prompts", "--stdio", DEMO_STDIO)
    assert prompts.returncode == 0, prompts.stderr
    assert prompts.stdout.startswith("1 prompt\n")

    rich = asyncmcp("connect", "prompts", "--stdio", RICH_STDIO, "--json")
    optional = [a["name"] for p in json.loads(rich.stdout) for a in p.get("arguments", []) if not a.get("required")]
    assert optional, "the rich app has a prompt with an optional argument"
    table = asyncmcp("connect", "prompts", "--stdio", RICH_STDIO)
    assert f"{optional[0]}?" in table.stdout and "? optional" in table.stdout
    assert "*" not in table.stdout

    tools = asyncmcp("connect", "tools", "--stdio", DEMO_STDIO)
    assert "reason?" in tools.stdout and "? optional" in tools.stdout


def test_piped_tables_are_not_wrapped_at_80_columns() -> None:
    tools = asyncmcp("connect", "tools", "--stdio", DEMO_STDIO)
    assert tools.returncode == 0, tools.stderr
    [line] = [line for line in tools.stdout.splitlines() if "sleep" in line]
    assert "Wait for `seconds` (reporting progress each second), like a slow batch job." in line
    assert len(line) > 80
    assert all(line == line.rstrip() or len(line) < 200 for line in tools.stdout.splitlines())  # no padding


def test_piped_tail_shows_whole_queue_names(queues: Queues) -> None:
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    queues.sqs.send_message(QueueUrl=queues.request_url, MessageBody=json.dumps(request))
    shown = asyncmcp("tail", queues.request_url, queues=queues)
    assert shown.returncode == 0, shown.stderr
    [row] = [line for line in shown.stdout.splitlines() if "tools/list" in line]
    assert queues.request in row, row  # e.g. asyncmcp-t0123456789-requests, not "asyncmc…"
    assert "…" not in row
    assert "1 message shown" in shown.stderr


# -- serve: one line for its settings, one per poison message --------------------------


def test_serve_says_each_thing_once_on_whole_lines(queues: Queues, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", "--allow-reply", queues.prefix + "*", "--grace-period", "1", "-o", "wait_seconds=1"],
            env=piped_env(queues),
            stdout=subprocess.DEVNULL,
            stderr=sink,
            cwd=ROOT,
        )
    try:
        wait_until_sync(lambda: "Ctrl-C to stop" in log.read_text() or process.poll() is not None, timeout=40)
        queues.sqs.send_message(QueueUrl=queues.request_url, MessageBody="poison-7c1d not JSON-RPC")
        wait_until_sync(lambda: "poison-7c1d" in log.read_text(), timeout=30)
        wait_until_sync(lambda: queues.counts(queues.request_url) == (0, 0), timeout=30)  # settled
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    lines = log.read_text().splitlines()
    serving = [line for line in lines if "serving" in line]
    assert len(serving) == 1, lines
    assert queues.request in serving[0] and serving[0].rstrip().endswith("Ctrl-C to stop")  # not wrapped
    assert len([line for line in lines if "poison-7c1d" in line]) == 1, lines
