"""The CLI's failure contract: each failure is a short message on stderr with the documented exit code, in bounded time.

Every case runs `asyncmcp` as a real subprocess against real endpoints the
test starts on 127.0.0.1: moto, a port nothing listens on, a socket that
accepts and never answers, and an HTTP server that answers 500 to everything.
The time bounds are generous upper limits on how long a *failure* may take
(bounding it is the behaviour under test); no test asserts how fast anything
succeeds.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from asyncmcp_cli.cli._common import ExitCode
from tests.cli.connect_support import CLI, ROOT, cli_env, connect, serving
from tests.conftest import Queues

ACCOUNT = "123456789012"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dead_endpoint() -> str:
    """A loopback port with nothing listening: every connection is refused."""
    return f"http://127.0.0.1:{_free_port()}"


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback socket that accepts connections and never answers (a hung endpoint, or a metadata service)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for connection in held:
        connection.close()


class _Answers500(BaseHTTPRequestHandler):
    def _fail(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = b"Internal Server Error"
        self.send_response(500)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _fail

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_endpoint() -> Iterator[str]:
    """An HTTP server on loopback that answers every request with 500 (an endpoint in an outage)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers500)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@dataclass
class Outcome:
    code: int
    seconds: float
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_cli(args: list[str], env: dict[str, str], *, within: float) -> Outcome:
    """`asyncmcp ARGS...`; a run that outlives `within` seconds fails the test (that bound is the contract)."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*CLI, *args], env=env, capture_output=True, text=True, timeout=within, cwd=ROOT, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"still running after {within} s: asyncmcp {' '.join(args)}\n{exc.stderr or ''}")
    return Outcome(done.returncode, time.monotonic() - started, done.stderr)


def queue_urls(endpoint: str) -> list[str]:
    """Queues given as URLs, so no call is made to resolve them: the first contact is the send itself."""
    return [
        "--endpoint-url",
        endpoint,
        "--request-queue",
        f"{endpoint}/{ACCOUNT}/asyncmcp-requests",
        "--reply-queue",
        f"{endpoint}/{ACCOUNT}/asyncmcp-replies",
    ]


def no_credentials(metadata: str) -> dict[str, str]:
    """No endpoint, no credentials anywhere, and an instance metadata service that never answers."""
    env = cli_env()
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    return env | {
        "AWS_CONFIG_FILE": "/nonexistent/asyncmcp-test/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/asyncmcp-test/credentials",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata,
    }


@dataclass(frozen=True)
class Case:
    """One failure: how to provoke it, and what the user must see."""

    command: Callable[[pytest.FixtureRequest], tuple[list[str], dict[str, str]]]
    code: ExitCode
    words: tuple[str, ...]
    within: float
    max_lines: int = 1
    absent: tuple[str, ...] = ("Traceback", "server answered with an error")


def _on_moto(*args: str) -> Callable[[pytest.FixtureRequest], tuple[list[str], dict[str, str]]]:
    def command(request: pytest.FixtureRequest) -> tuple[list[str], dict[str, str]]:
        queues: Queues = request.getfixturevalue("queues")
        return [*args, "-o", "wait_seconds=1"], cli_env(queues)

    return command


def _at(fixture: str, *args: str, urls: bool = False) -> Callable[[pytest.FixtureRequest], tuple[list[str], dict]]:
    def command(request: pytest.FixtureRequest) -> tuple[list[str], dict[str, str]]:
        endpoint: str = request.getfixturevalue(fixture)
        where = queue_urls(endpoint) if urls else ["--endpoint-url", endpoint]
        return [*args, *where], cli_env()

    return command


def _without_credentials(*args: str) -> Callable[[pytest.FixtureRequest], tuple[list[str], dict[str, str]]]:
    def command(request: pytest.FixtureRequest) -> tuple[list[str], dict[str, str]]:
        return list(args), no_credentials(request.getfixturevalue("silent_endpoint"))

    return command


def _plain(*args: str, **env: str) -> Callable[[pytest.FixtureRequest], tuple[list[str], dict[str, str]]]:
    return lambda request: (list(args), cli_env() | env)


REAL_AWS_QUEUES = (
    "--request-queue",
    f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/asyncmcp-requests",
    "--reply-queue",
    f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/asyncmcp-replies",
)

CASES = {
    # Unreachable endpoints: exit 4 in seconds, one line (was: ~30 WARNING blocks over 60+ s, exit 6).
    "connect-refused": Case(
        _at("dead_endpoint", "connect", "tools", urls=True), ExitCode.UNREACHABLE, ("cannot reach",), within=20
    ),
    "call-refused": Case(
        _at("dead_endpoint", "connect", "call", "echo", "text=hi", "--no-validate", urls=True),
        ExitCode.UNREACHABLE,
        ("cannot reach",),
        within=20,
    ),
    "connect-silent": Case(
        _at("silent_endpoint", "connect", "tools", urls=True), ExitCode.UNREACHABLE, ("no answer",), within=25
    ),
    "tail-silent": Case(_at("silent_endpoint", "tail", "nosuchqueue"), ExitCode.UNREACHABLE, ("no answer",), within=25),
    # An endpoint answering HTTP 500 is down too, not a server's JSON-RPC answer (was: exit 6).
    "connect-http-500": Case(
        _at("failing_endpoint", "connect", "tools", urls=True), ExitCode.UNREACHABLE, ("HTTP 500",), within=20
    ),
    # Errors raised before sending say they are local (was: "server answered with an error", exit 6 or a traceback).
    "payload-too-large": Case(
        _on_moto("connect", "tools", "-o", "payload_threshold=10"),
        ExitCode.CONFIGURATION,
        ("not sent", "local error", "payload_bucket"),
        within=30,
    ),
    "payload-bucket-empty": Case(
        _on_moto("connect", "tools", "-o", "payload_threshold=10", "-o", "payload_bucket="),
        ExitCode.CONFIGURATION,
        ("payload_bucket is empty",),
        within=30,
    ),
    # A client timeout says so, and does not blame the server (nothing serves these queues).
    "timeout": Case(
        _on_moto("connect", "tools", "--timeout", "1"), ExitCode.TIMEOUT, ("timed out waiting",), within=30
    ),
    # Missing credentials (no endpoint): a hint at the local endpoint, before any metadata-service wait repeats.
    "credentials-connect": Case(
        _without_credentials("connect", "tools", *REAL_AWS_QUEUES),
        ExitCode.UNREACHABLE,
        ("no AWS credentials", "asyncmcp local", "AWS_ENDPOINT_URL"),
        within=12,
    ),
    "credentials-tail": Case(
        _without_credentials("tail", "nosuchqueue"),
        ExitCode.UNREACHABLE,
        ("no AWS credentials", "asyncmcp local"),
        within=12,
    ),
    # Bad endpoints and timeouts are usage errors, found before anything starts (was: tracebacks, or accepted).
    "serve-endpoint-not-a-url": Case(
        _plain("serve", "--endpoint-url", "notaurl"), ExitCode.USAGE, ("not valid",), within=20, max_lines=8
    ),
    "connect-endpoint-without-scheme": Case(
        _plain("connect", "tools", "--endpoint-url", "127.0.0.1:4951"),
        ExitCode.USAGE,
        ("not valid",),
        within=20,
        max_lines=8,
    ),
    "tail-endpoint-env-not-a-url": Case(
        _plain("tail", "nosuchqueue", AWS_ENDPOINT_URL="notaurl"),
        ExitCode.USAGE,
        ("not valid",),
        within=20,
        max_lines=8,
    ),
    "timeout-nan": Case(
        _on_moto("connect", "tools", "--timeout", "nan"), ExitCode.USAGE, ("seconds",), within=20, max_lines=8
    ),
    "timeout-negative": Case(
        _on_moto("connect", "tools", "--timeout", "-5"), ExitCode.USAGE, ("seconds",), within=20, max_lines=8
    ),
    # An stdio server that writes garbage: no SDK traceback, a few one-line messages.
    "stdio-not-json": Case(
        _plain("connect", "tools", "--stdio", "echo not-json"),
        ExitCode.UNREACHABLE,
        ("closed",),
        within=30,
        max_lines=3,
    ),
}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", list(CASES))
def test_each_failure_is_short_labelled_and_bounded(name: str, request: pytest.FixtureRequest) -> None:
    case = CASES[name]
    args, env = case.command(request)
    outcome = run_cli(args, env, within=case.within)
    assert outcome.code == case.code, outcome.stderr
    assert 1 <= len(outcome.lines) <= case.max_lines, outcome.stderr
    for word in case.words:
        assert word in outcome.stderr, outcome.stderr
    for word in case.absent:
        assert word not in outcome.stderr, outcome.stderr


@pytest.mark.timeout(150)
def test_collecting_an_answer_twice_says_it_was_collected(queues: Queues, tmp_path: Path) -> None:
    fired = connect(queues, "call", "echo", "text=once", "--no-wait")
    assert fired.returncode == 0, fired.stderr
    receipt = fired.stdout.strip()
    with serving(queues, tmp_path / "serve.log"):
        first = connect(queues, "collect", receipt, "--wait", "30")
    assert first.returncode == 0, first.stderr
    again = connect(queues, "collect", receipt, "--wait", "30")
    assert again.returncode == ExitCode.GONE, again.stderr
    assert "already collected" in again.stderr
    assert "not answered yet" not in again.stderr
    as_json = connect(queues, "collect", receipt, "--json")
    assert as_json.returncode == ExitCode.GONE
    assert '"status": "collected"' in as_json.stdout


def _readme_exit_codes() -> dict[int, str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Exit codes") :]
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.MULTILINE)}


def test_the_readme_documents_every_exit_code_and_each_failure_above() -> None:
    documented = _readme_exit_codes()
    assert set(documented) == {int(code) for code in ExitCode}
    assert "HTTP 5xx" in documented[ExitCode.UNREACHABLE]
    assert "no payload bucket" in documented[ExitCode.CONFIGURATION]
    assert "not sent" in documented[ExitCode.CONFIGURATION]
    assert "timed out" in documented[ExitCode.TIMEOUT]
    assert "endpoint URL" in documented[ExitCode.USAGE]
    assert "already collected" in documented[ExitCode.GONE]
