"""Tab completion offers values, not files: transports, profile names, tool names, provision targets.

Each case runs a completion request as the scripts in `completions/` do (the
``_ASYNCMCP_COMPLETE`` variable with ``COMP_WORDS`` and ``COMP_CWORD``), in a
fresh process whose profiles and state are this test's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import mcp_types as types
import pytest

from asyncmcp_cli import profiles
from asyncmcp_cli.cli.connect.tool_cache import ListingCache
from asyncmcp_cli.transports.names import BUILTIN

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
RUN = "from asyncmcp_cli.cli import app; app(prog_name='asyncmcp')"


def complete(words: str) -> list[str]:
    """What `asyncmcp` offers for a Tab at the end of `words` (a trailing space starts a new word)."""
    environment = os.environ | {
        "_ASYNCMCP_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN], env=environment, capture_output=True, text=True, timeout=50, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_transport_values_are_every_registered_transport() -> None:
    offered = complete("asyncmcp connect tools --transport ")
    assert set(BUILTIN) <= set(offered)
    assert complete("asyncmcp serve -t sn") == ["sns+sqs"]


def test_profile_names_come_from_the_profiles_file() -> None:
    for name in ("staging", "local"):
        profiles.save(profiles.Profile(name=name, target="local"))
    assert complete("asyncmcp connect call --profile ") == ["local", "staging"]
    assert complete("asyncmcp tail --profile st") == ["staging"]


def test_tool_names_come_from_the_listing_cache() -> None:
    tools = [types.Tool(name=name, input_schema={"type": "object"}) for name in ("echo", "add", "sleep")]
    ListingCache("some-server").store(tools)
    assert complete("asyncmcp connect call ") == ["add", "echo", "sleep"]
    assert complete("asyncmcp connect schema ec") == ["echo"]


def test_no_cached_listing_offers_no_tool_names() -> None:
    assert complete("asyncmcp connect call ") == []


def test_provision_offers_its_targets() -> None:
    assert complete("asyncmcp provision ") == ["local", "localstack", "aws"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_bash_script_fills_compreply(tmp_path: Path) -> None:
    """The committed bash script, sourced in bash, puts the CLI's answer into COMPREPLY."""
    shim = tmp_path / "asyncmcp"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{RUN}"\n')
    shim.chmod(0o755)
    script = (
        f"source {ROOT / 'completions' / 'asyncmcp.bash'}\n"
        "COMP_WORDS=(asyncmcp provision ''); COMP_CWORD=2\n"
        f"_asyncmcp_completion {shim}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, timeout=50)
    assert done.stdout.split() == ["local", "localstack", "aws"], done.stderr
