"""The README's order of things: export what `asyncmcp local` prints, then use the webhook transports.

``AWS_REGION`` and ``AWS_ENDPOINT_URL`` mean nothing to a webhook: they are
environment defaults and apply only to the transports that take them. An
option asked for explicitly (``-o region=...``, ``--region``) that a
transport does not take is still a configuration error.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports import registry
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.transports.webhook.transport import WebhookTransport
from tests.cli.connect_support import CLI
from tests.conftest import read_until
from tests.transports.webhook_support import SECRET

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def local_exports() -> Iterator[dict[str, str]]:
    """`asyncmcp local --port 0` running; what it tells the user to export."""
    process = subprocess.Popen(
        [*CLI, "local", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    process.stderr = process.stdout  # read_until reads the combined output
    try:
        lines = read_until(process, "AWS_SECRET_ACCESS_KEY")
        yield dict(line.removeprefix("export ").strip().split("=", 1) for line in lines if line.startswith("export "))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        process.stdout.close()  # type: ignore[union-attr]


def readme_env(exports: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASYNCMCP_") or k == "ASYNCMCP_CONFIG_DIR"}
    return env | exports | {"ASYNCMCP_WEBHOOK_SECRET": SECRET, "NO_COLOR": "1", "COLUMNS": "400"}


@pytest.mark.parametrize("transport", ["webhook", "http+webhook"])
def test_the_webhook_section_works_after_the_local_exports(
    transport: str, local_exports: dict[str, str], tmp_path: Path
) -> None:
    assert {"AWS_REGION", "AWS_ENDPOINT_URL"} <= set(local_exports)
    env = readme_env(local_exports)
    dead_letter = f"dead_letter={tmp_path / 'dead.jsonl'}"
    flags = ["--port", "0", "--allow-webhook", "http://127.0.0.1:*", "-o", dead_letter, "--grace-period", "1"]
    server = subprocess.Popen(
        [*CLI, "serve", "--transport", transport, *flags],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        found = re.search(r"url=http://(127\.0\.0\.1:\d+)/mcp", "".join(read_until(server, "Ctrl-C to stop")))
        assert found
        target = f"{transport}://{found.group(1)}"
        call = [*CLI, "connect", "call", "add", "a=2", "b=40", "-t", target, "--timeout", "30"]
        answered = subprocess.run(call, env=env, capture_output=True, text=True, timeout=60)
        assert answered.returncode == 0, answered.stderr
        assert "42.0" in answered.stdout

        explicit = subprocess.run(
            [*call, "-o", "region=eu-west-1"], env=env, capture_output=True, text=True, timeout=60
        )
        assert explicit.returncode == 3
        assert "unknown option(s) region" in explicit.stderr
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)
        server.stderr.close()  # type: ignore[union-attr]


def test_defaults_apply_only_where_a_transport_takes_them() -> None:
    aws_defaults = {"region": "eu-west-1", "endpoint_url": "http://127.0.0.1:1", "webhook_listen": "127.0.0.1:9"}
    webhook = registry.resolve("webhook", defaults=aws_defaults)
    assert isinstance(webhook, WebhookTransport)
    assert webhook.options.webhook_listen == "127.0.0.1:9"
    sqs = registry.resolve("sqs", defaults=aws_defaults, region="us-west-2")
    assert sqs.options.region == "us-west-2"  # type: ignore[attr-defined]  # explicit beats the default
    assert sqs.options.endpoint_url == "http://127.0.0.1:1"  # type: ignore[attr-defined]
    assert isinstance(registry.resolve("memory://lab", defaults=aws_defaults), MemoryTransport)
    with pytest.raises(ConfigurationError, match="region"):
        registry.resolve("webhook", region="eu-west-1")
