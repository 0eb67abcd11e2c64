"""Crafted receipts: `connect collect` talks only to the configured endpoint, and refuses bad fields in one line.

A receipt is text passed between people. Collecting signs SQS requests with
the collector's own credentials, so a receipt that names another endpoint
must not get them sent there (unless the user says so), and a receipt with a
malformed field is a usage error (exit 2), never a traceback.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from asyncmcp_cli.aws import AwsSettings
from asyncmcp_cli.delivery.receipts import BadReceiptError, ForeignEndpointError, Receipt
from tests.cli.connect_support import CLI, ROOT, cli_env
from tests.conftest import Queues

pytestmark = pytest.mark.timeout(180)  # CLI processes: generous on a loaded machine

SESSION_TOKEN = "victim-session-token-0123456789"


def compact(data: dict[str, Any]) -> str:
    """A receipt in the compact form, however crafted."""
    text = json.dumps(data, separators=(",", ":"))
    return "amr1." + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def good(queues: Queues, **changes: Any) -> dict[str, Any]:
    data = {
        "v": 1,
        "transport": "sqs",
        "reply_queue": queues.reply_url,
        "client_id": "c0ffee",
        "request_id": "a1b2c3",
        "method": "tools/call",
        "endpoint": queues.endpoint.url,
        "region": "us-east-1",
    }
    return {key: value for key, value in (data | changes).items() if value is not ...}


def collect(queues: Queues, receipt: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "connect", "collect", receipt, *args],
        env=cli_env(queues, AWS_SESSION_TOKEN=SESSION_TOKEN),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


class Recorder(BaseHTTPRequestHandler):
    """Records every request it gets and answers as SQS would refuse it."""

    seen: list[dict[str, str]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.seen.append({key.lower(): value for key, value in self.headers.items()})
        body = json.dumps({"__type": "com.amazonaws.sqs#AccessDenied", "message": "recorded"}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def listener() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An HTTP server on a free loopback port that records the requests it receives."""
    seen: list[dict[str, str]] = []
    handler = type("RecordingHandler", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_receipt_naming_another_endpoint_sends_it_nothing(queues: Queues) -> None:
    with listener() as (url, seen):
        crafted = compact(good(queues, endpoint=url, reply_queue=f"{url}/123456789012/asyncmcp-replies"))
        refused = collect(queues, crafted)

        assert refused.returncode == 2, refused.stderr
        line = one_line(refused.stderr)
        assert f"the receipt names endpoint {url}" in line
        assert "--trust-receipt-endpoint" in line
        assert refused.stdout == ""
        assert seen == []  # not one request: neither the key id nor the session token went there

        trusted = collect(queues, crafted, "--trust-receipt-endpoint")
        assert seen, "with the flag, the receipt's endpoint is asked"
        assert SESSION_TOKEN in seen[0].get("x-amz-security-token", "")  # what the flag exposes, and why
        assert trusted.returncode == 4, trusted.stderr  # what it answered is an error, in one line
        one_line(trusted.stderr)


def test_a_receipt_naming_another_region_is_refused(queues: Queues) -> None:
    refused = collect(queues, compact(good(queues, region="eu-west-3")))
    assert refused.returncode == 2, refused.stderr
    assert "--region eu-west-3" in one_line(refused.stderr)


def test_the_configured_endpoint_collects_a_receipt_that_names_it(queues: Queues) -> None:
    """The guard does not get in the way of a receipt from this configuration (a trailing slash is the same URL)."""
    pending = collect(queues, compact(good(queues, endpoint=queues.endpoint.url + "/")))
    assert pending.returncode == 7, pending.stderr
    assert "not answered yet" in pending.stderr


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"endpoint": "file:///etc/passwd"}, "receipt endpoint 'file:///etc/passwd' is not an http(s) URL"),
        ({"endpoint": "http://user:pw@127.0.0.1:1"}, "is not an http(s) URL"),
        ({"endpoint": "http://127.0.0.1:99999"}, "is not an http(s) URL"),
        ({"region": "../../x"}, "receipt region '../../x' is not an AWS region"),
        ({"region": 5}, "receipt region 5 is not an AWS region"),
        ({"request_id": ...}, "receipt lacks request_id"),
        ({"request_id": True}, "request_id must be text or an integer"),
        ({"request_id": {"a": 1}}, "request_id must be text or an integer"),
        ({"reply_queue": 42}, "receipt reply_queue must be a URL"),
        ({"reply_queue": ["http://127.0.0.1/1/q"]}, "receipt reply_queue must be a URL"),
        ({"reply_queue": "asyncmcp-replies"}, "is not an http(s) URL"),
        ({"reply_queue": "http://10.9.8.7:4566/123456789012/q"}, "is not a queue of"),
        ({"client_id": 7}, "receipt client_id must be text"),
        ({"client_id": "x" * 300}, "receipt client_id"),
        ({"method": "\u001b]0;pwned\u0007"}, "receipt method '\\x1b]0;pwned\\x07' is not a printable text"),
        ({"transport": "ftp"}, "receipt names transport 'ftp'"),
        ({"transport": ["sqs"]}, "receipt transport must be text"),
    ],
)
def test_each_malformed_field_is_one_line_and_exit_2(queues: Queues, changes: dict[str, Any], complaint: str) -> None:
    result = collect(queues, compact(good(queues, **changes)))
    assert result.returncode == 2, result.stderr
    assert complaint in one_line(result.stderr)


def test_a_receipt_nested_too_deep_is_one_line(queues: Queues) -> None:
    result = collect(queues, "-", stdin='{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert result.returncode == 2, result.stderr[-500:]
    assert "receipt is not valid JSON" in one_line(result.stderr)


# -- the rule itself, without processes -------------------------------------------


def test_bound_to_uses_the_configured_endpoint_unless_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    receipt = Receipt(
        "sqs", "http://127.0.0.1:9/000000000000/q", "c", "r", endpoint="http://127.0.0.1:9", region="us-east-1"
    )
    local = AwsSettings(endpoint_url="http://127.0.0.1:4566", region="us-east-1")
    with pytest.raises(ForeignEndpointError, match=re.escape("names endpoint http://127.0.0.1:9, region us-east-1")):
        receipt.bound_to(local)
    assert receipt.bound_to(local, trust=True).endpoint == "http://127.0.0.1:9"

    real_aws = AwsSettings(endpoint_url=None, region="us-east-1")
    with pytest.raises(ForeignEndpointError, match="not the configured real AWS, region us-east-1"):
        receipt.bound_to(real_aws)

    on_aws = Receipt("sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/q", "c", 7, region="eu-west-1")
    assert on_aws.bound_to(AwsSettings(region="eu-west-1")).endpoint is None
    with pytest.raises(BadReceiptError, match="is not a queue of AWS in eu-west-1"):
        Receipt("sqs", "http://127.0.0.1:9/1/q", "c", 7).bound_to(AwsSettings(region="eu-west-1"))

    localstack = Receipt("sqs", "http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q", "c", 1)
    assert localstack.bound_to(AwsSettings("http://localhost:4566", "us-east-1")).endpoint == "http://localhost:4566"
