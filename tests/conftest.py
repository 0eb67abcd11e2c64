"""Fixtures shared by the suite: a real moto server, unique queues, polling helpers."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import anyio
import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws import local_aws


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def isolated_profiles(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test (and the CLI subprocesses it starts) away from the user's own asyncmcp profiles and state."""
    monkeypatch.setenv("ASYNCMCP_CONFIG_DIR", str(tmp_path_factory.mktemp("asyncmcp-config")))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("asyncmcp-state")))
    monkeypatch.delenv("ASYNCMCP_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def piped_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI run in-process (Typer's runner) prints as a piped `asyncmcp` process does: lines never wrapped.

    Its consoles take their width once, when the CLI is first imported in a process, from whatever
    `COLUMNS` was then; without this an in-process test's output would depend on which test came first.
    """
    from asyncmcp_cli.cli._common import PIPE_WIDTH, console, err_console

    monkeypatch.setattr(console, "width", PIPE_WIDTH)
    monkeypatch.setattr(err_console, "width", PIPE_WIDTH)


@pytest.fixture(scope="session")
def moto() -> Iterator[local_aws.LocalEndpoint]:
    """moto's server over real HTTP on 127.0.0.1, on a free port, for the whole session."""
    with local_aws.local_endpoint() as endpoint:
        yield endpoint


@dataclass
class Queues:
    """A fresh request/reply queue pair for one test."""

    endpoint: local_aws.LocalEndpoint
    prefix: str
    request: str
    reply: str
    request_url: str
    reply_url: str

    @property
    def sqs(self):  # the raw boto3 client, for looking at queues from outside
        return aws.client("sqs", self.endpoint.settings)

    def create(self, name: str, **attributes: str) -> str:
        kwargs = {"QueueName": name} | ({"Attributes": attributes} if attributes else {})
        return self.sqs.create_queue(**kwargs)["QueueUrl"]

    def counts(self, url: str) -> tuple[int, int]:
        """(visible, in flight) messages on a queue."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def queues(moto: local_aws.LocalEndpoint) -> Queues:
    prefix = f"asyncmcp-t{uuid.uuid4().hex[:10]}-"
    names = (prefix + "requests", prefix + "replies")
    urls = local_aws.create_queues(moto.settings, names)
    return Queues(moto, prefix, names[0], names[1], urls[names[0]], urls[names[1]])


async def wait_until(predicate: Callable[[], object], *, within: float = 10.0, interval: float = 0.05) -> None:
    """Poll `predicate` (state outside this process, e.g. a queue) until truthy; fail after `within` s."""
    with anyio.fail_after(within):
        while not predicate():  # noqa: ASYNC110 - nothing to wait on: the state lives in another server
            await anyio.sleep(interval)


def wait_until_sync(predicate: Callable[[], object], *, timeout: float = 10.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)


def read_until(process: subprocess.Popen[str], needle: str, *, within: float = 30.0) -> list[str]:
    """Read `process`'s stderr lines until one contains `needle`; fail if it exits or time runs out.

    Lines keep draining in a background thread afterwards, so the child never
    blocks on a full pipe.
    """
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + within
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError(f"no {needle!r} within {within}s; saw: {''.join(seen)}") from None
        if not line:
            raise AssertionError(f"process exited before {needle!r}; saw: {''.join(seen)}")
        seen.append(line)
        if needle in line:
            return seen
