"""The embedded local AWS endpoint: moto's server (SQS, SNS, S3) on 127.0.0.1.

Lets a newcomer run everything without an AWS account. LocalStack and real AWS
take the same code path with another endpoint URL.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from asyncmcp_cli import aws
from asyncmcp_cli.aws import moto_fifo
from asyncmcp_cli.errors import ConfigurationError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 4750
DEFAULT_QUEUES = ("asyncmcp-requests", "asyncmcp-replies")


@dataclass(frozen=True)
class LocalEndpoint:
    url: str
    pid: int | None = None
    """The endpoint's process, when it runs in its own (for measuring its CPU)."""

    @property
    def settings(self) -> aws.AwsSettings:
        return aws.AwsSettings(endpoint_url=self.url, region=aws.DEFAULT_REGION)

    def exports(self) -> dict[str, str]:
        """Environment that points boto3 (and asyncmcp) at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": aws.DEFAULT_REGION,
            "AWS_DEFAULT_REGION": aws.DEFAULT_REGION,  # what plain boto3 reads
            "AWS_ACCESS_KEY_ID": aws.LOCAL_CREDENTIALS[0],
            "AWS_SECRET_ACCESS_KEY": aws.LOCAL_CREDENTIALS[1],
        }


@contextmanager
def local_endpoint(host: str = "127.0.0.1", port: int = 0) -> Iterator[LocalEndpoint]:
    """Run moto's server in a background thread; `port=0` picks a free port."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # moto is a dependency; this only fires in a broken install
        raise RuntimeError("the embedded endpoint needs moto[server]: pip install 'moto[server]'") from exc

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
    moto_fifo.apply()  # FIFO groups freed on delete, as on SQS; otherwise ~20 s per FIFO call
    if port:
        _check_free(host, port)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    try:
        yield LocalEndpoint(f"http://{bound_host}:{bound_port}")
    finally:
        server.stop()


def _check_free(host: str, port: int) -> None:
    """Fail clearly on a taken port: moto's thread would die and leave start() waiting forever."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {host}:{port} ({exc.strerror}); is `asyncmcp local` already running? "
                "Pick another --port, or 0 for a free one"
            ) from None


@contextmanager
def local_endpoint_process(host: str = "127.0.0.1", *, corrected: bool = True) -> Iterator[LocalEndpoint]:
    """moto's server in a child process on a free port: for measurements, so that it
    does not share the measuring process's interpreter lock. `corrected=False` runs moto
    as it ships, without the FIFO correction of `moto_fifo` (to measure what it changes)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asyncmcp_cli.aws.moto_fifo" if corrected else "moto.server",
            "-H",
            host,
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the local AWS endpoint (moto) did not start") from None
                time.sleep(0.1)
        yield LocalEndpoint(f"http://{host}:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def create_queues(settings: aws.AwsSettings, names: tuple[str, ...] = DEFAULT_QUEUES) -> dict[str, str]:
    """Create queues (idempotent) and return their URLs by name. Synchronous: for start-up only."""
    sqs = aws.client("sqs", settings)
    return {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in names}
