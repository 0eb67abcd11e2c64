"""`asyncmcp local --provision` provisions the endpoint it starts and writes the 'local' profile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from asyncmcp_cli import profiles
from tests.conftest import read_until


def test_local_provision_writes_a_profile_for_its_own_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"ASYNCMCP_CONFIG_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncmcp_cli", "local", "--port", "0", "--provision", "--no-create-queues"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = "".join(read_until(process, "local AWS endpoint at"))
        assert "provisioned" in seen
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        process.stderr.close()  # type: ignore[union-attr]
    monkeypatch.setenv("ASYNCMCP_CONFIG_DIR", str(tmp_path))
    saved = profiles.load("local")
    assert saved is not None and saved.endpoint_url is not None
    assert saved.endpoint_url in seen
    assert set(saved.transports) == {"sqs", "sns+sqs"}
