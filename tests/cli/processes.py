"""`asyncmcp serve` and `asyncmcp proxy` as real subprocesses, for the CLI and interop tests."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.cli.connect_support import CLI, cli_env
from tests.conftest import Queues, read_until

READY = "Ctrl-C"
"""What `serve` and `proxy` print once they are serving."""


@contextmanager
def running(*args: str, env: dict[str, str], ready: str = READY) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """`asyncmcp ARGS...` once it has printed `ready`; stopped with SIGTERM (and checked to exit 0) afterwards."""
    process = subprocess.Popen([*CLI, *args], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        lines = read_until(process, ready)
        yield process, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
        process.stderr.close()  # type: ignore[union-attr]


@contextmanager
def serving(queues: Queues, *args: str) -> Iterator[list[str]]:
    """`asyncmcp serve --transport sqs ARGS...` on the test's queues; yields what it logged until ready."""
    command = ("serve", "--transport", "sqs", "--allow-reply", queues.prefix + "*", "--grace-period", "2", *args)
    with running(*command, env=cli_env(queues)) as (process, lines):
        yield lines
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


@contextmanager
def proxying(queues: Queues, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """`asyncmcp proxy` on a free loopback port for the test's queues; yields its URL and its log."""
    command = ("proxy", "--transport", "sqs", "--listen", "http://127.0.0.1:0/mcp", "-o", "wait_seconds=2", *args)
    with running(*command, env=env or cli_env(queues)) as (process, lines):
        match = re.search(r"proxy (http://\S+)", "".join(lines))
        assert match, lines
        yield match.group(1), lines
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
