"""`asyncmcp local`: the embedded endpoint in the foreground, as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from asyncmcp_cli import aws
from tests.conftest import read_until


def test_local_prints_its_endpoint_and_creates_the_default_queues() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncmcp_cli", "local", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.stderr = process.stdout  # read_until reads the combined output
    try:
        lines = read_until(process, "AWS_SECRET_ACCESS_KEY")
        exports = dict(
            line.removeprefix("export ").strip().split("=", 1) for line in lines if line.startswith("export ")
        )
        endpoint = exports["AWS_ENDPOINT_URL"]
        assert endpoint.startswith("http://127.0.0.1:")
        sqs = aws.client("sqs", aws.AwsSettings(endpoint_url=endpoint))
        names = {url.rsplit("/", 1)[-1] for url in sqs.list_queues()["QueueUrls"]}
        assert {"asyncmcp-requests", "asyncmcp-replies"} <= names
        # plain boto3, with nothing but the exports (it reads AWS_DEFAULT_REGION, not AWS_REGION)
        plain = subprocess.run(
            [sys.executable, "-c", "import boto3; print(len(boto3.client('sqs').list_queues()['QueueUrls']))"],
            env={"PATH": os.environ["PATH"], "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"} | exports,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert plain.returncode == 0, plain.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        process.stdout.close()  # type: ignore[union-attr]
    assert process.returncode == 0


def test_a_taken_port_is_a_one_line_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "asyncmcp_cli", "local", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 3
    assert "already running" in result.stderr and "Traceback" not in result.stderr
