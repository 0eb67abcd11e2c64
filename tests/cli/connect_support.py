"""Running `asyncmcp serve` and `asyncmcp connect` as real subprocesses for the connect tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from tests.conftest import Queues, wait_until_sync

CLI = [sys.executable, "-m", "asyncmcp_cli"]
ROOT = Path(__file__).resolve().parents[2]
RICH_STDIO = f"{sys.executable} {ROOT / 'tests' / 'cli' / 'richapp.py'}"


def fresh_queues(moto: LocalEndpoint) -> Queues:
    """A new request/reply queue pair (the `queues` fixture, for fixtures wider than one test)."""
    prefix = f"asyncmcp-t{uuid.uuid4().hex[:10]}-"
    names = (prefix + "requests", prefix + "replies")
    urls = local_aws.create_queues(moto.settings, names)
    return Queues(moto, prefix, names[0], names[1], urls[names[0]], urls[names[1]])


def cli_env(queues: Queues | None = None, **extra: str) -> dict[str, str]:
    """The environment of a user who pasted `asyncmcp local`'s exports, with this test's queues."""
    env = dict(os.environ)
    for name in ("ASYNCMCP_TRANSPORT", "ASYNCMCP_ERA", "ASYNCMCP_CLIENT_ID", "ASYNCMCP_HISTORY"):
        env.pop(name, None)
    if queues is not None:
        env |= queues.endpoint.exports()
        env |= {"ASYNCMCP_REQUEST_QUEUE": queues.request, "ASYNCMCP_REPLY_QUEUE": queues.reply}
    env |= {"NO_COLOR": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    return env | extra


def connect(
    queues: Queues | None, *args: str, timeout: float = 40, stdin: str | None = None, merge: bool = False
) -> subprocess.CompletedProcess[str]:
    """`asyncmcp connect ARGS...`; with `merge`, stderr goes into stdout in the order it was written.

    Over SQS the client long-polls its reply queue for 1 s instead of 20: a poll still
    open when a process exits may take the next process's reply and hide it for a few
    seconds, and these tests run many short-lived clients on one reply queue.
    """
    if queues is not None:
        args = (*args, "-o", "wait_seconds=1")
    return subprocess.run(
        [*CLI, "connect", *args],
        env=cli_env(queues),
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@contextmanager
def serving(queues: Queues, log: Path, app: str | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`asyncmcp serve [APP]` on the test's queues, ready when it says so; stopped with SIGTERM."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", *([app] if app else []), "--allow-reply", queues.prefix + "*", "--grace-period", "2"],
            env=cli_env(queues),
            stdout=subprocess.DEVNULL,
            stderr=sink,
            cwd=ROOT,
        )
    try:
        wait_until_sync(lambda: "serving" in log.read_text() or process.poll() is not None, timeout=30)
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
