"""The help texts read cleanly: no type beside a flag, no doubled brackets in usage lines, every transport named."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from asyncmcp_cli.transports.names import BUILTIN

COMMANDS = [
    [],
    ["serve"],
    ["proxy"],
    ["tail"],
    ["bench"],
    ["provision"],
    ["connect"],
    ["connect", "call"],
    ["connect", "prompt"],
    ["connect", "collect"],
]


def help_of(words: list[str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "asyncmcp_cli", *words, "--help"],
        env=os.environ | {"COLUMNS": "250", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.timeout(120)
@pytest.mark.parametrize("words", COMMANDS, ids=lambda words: " ".join(words) or "asyncmcp")
def test_no_bool_types_and_no_doubled_brackets(words: list[str]) -> None:
    text = help_of(words)
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "[[" not in usage and "]]" not in usage, usage
    assert "<bool>" not in text


@pytest.mark.timeout(120)
def test_transport_help_names_every_builtin_transport() -> None:
    line = next(line for line in help_of(["connect", "call"]).splitlines() if line.startswith("│ --transport"))
    for name in BUILTIN:
        assert name in line, name


@pytest.mark.timeout(120)
def test_the_exit_codes_are_listed_once() -> None:
    text = " ".join(help_of(["connect"]).split())
    assert text.count("· 7 ") == 1 and text.count("· 8 ") == 1
    assert "130 cancelled with Ctrl-C" in text
