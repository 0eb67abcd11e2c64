"""The committed completion scripts and CLI surface listing match the CLI (`make completions` regenerates)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_completions_are_in_step_with_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "completions" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_the_scripts_are_for_asyncmcp_in_each_shell() -> None:
    assert "complete -o default -F _asyncmcp_completion asyncmcp" in (ROOT / "completions/asyncmcp.bash").read_text()
    assert (ROOT / "completions/_asyncmcp").read_text().startswith("#compdef asyncmcp\n")
    assert "complete --command asyncmcp" in (ROOT / "completions/asyncmcp.fish").read_text()
    surface = (ROOT / "completions/cli-surface.txt").read_text().splitlines()
    assert "asyncmcp tail" in surface and "asyncmcp provision" in surface
