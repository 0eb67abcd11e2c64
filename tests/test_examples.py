"""The examples in the README run as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from asyncmcp_cli.apps import load_server
from asyncmcp_cli.errors import AppLoadError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_memory_roundtrip_prints_the_result() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "memory_roundtrip.py")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "add(2, 3) = 5.0" in result.stdout


def test_weather_server_loads_as_an_app_reference() -> None:
    server = load_server(f"{EXAMPLES / 'weather_server.py'}:server")
    assert server.name == "weather"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no-colon", "must look like"),
        ("asyncmcp_cli.demo:nothing_here", "has no attribute"),
        ("missing_file.py:server", "no such file"),
        ("asyncmcp_cli.demo:echo", "calling it with no arguments failed"),
        ("asyncmcp_cli.demo:__doc__", "not an MCPServer"),
    ],
)
def test_bad_app_references_are_explained(reference: str, message: str) -> None:
    with pytest.raises(AppLoadError, match=message):
        load_server(reference)
