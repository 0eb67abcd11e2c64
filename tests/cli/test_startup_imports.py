"""`--help` and shell completion load neither the SDK nor boto3 (nor pydantic or anyio): they start quickly.

A behaviour test, not a timing: each case runs the CLI in a fresh interpreter
and lists the modules it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("mcp", "mcp_types", "boto3", "botocore", "pydantic", "pydantic_core", "anyio", "moto", "jsonschema")

_RUN_AND_LIST = """
import json, sys
from asyncmcp_cli.cli import app
try:
    app(prog_name="asyncmcp")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by(args: list[str], **env: str) -> set[str]:
    """The top-level packages of every module loaded while the CLI ran with `args`."""
    return {name.split(".")[0] for name in run_listing(args, **env)[1]}


def run_listing(args: list[str], **env: str) -> tuple[str, set[str]]:
    """What the CLI printed with `args`, and every module loaded while it ran."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("_ASYNCMCP")} | env
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    last = done.stderr.strip().splitlines()[-1]
    return done.stdout, set(json.loads(last))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "args",
    [["--help"], ["connect", "--help"], ["serve", "--help"], ["provision", "--help"], ["tail", "--help"]],
    ids=" ".join,
)
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    loaded = loaded_by(args)
    assert "typer" in loaded  # the CLI did run
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "words",
    ["asyncmcp co", "asyncmcp connect ca", "asyncmcp connect call --transport "],
)
def test_completion_loads_no_heavy_library(words: str) -> None:
    loaded = loaded_by(
        [], _ASYNCMCP_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(words.split(" ")) - 1)
    )
    assert "typer" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.timeout(120)
def test_the_root_lists_every_command_without_building_it() -> None:
    """`asyncmcp --help` lists the commands from their one-line summaries, and imports none of them."""
    output, modules = run_listing(["--help"], COLUMNS="120")
    assert not {m for m in modules if m.startswith("asyncmcp_cli.cli.") and m != "asyncmcp_cli.cli.lazy"}
    for name in ("serve", "connect", "provision", "tail", "demo", "bench", "local", "proxy"):
        assert f" {name} " in output


def test_each_listed_summary_is_the_commands_own_first_paragraph() -> None:
    """The root lists its commands from `lazy.COMMANDS` without loading them: those lines must not drift."""
    import inspect

    import typer.main

    from asyncmcp_cli.cli import app
    from asyncmcp_cli.cli.lazy import COMMANDS

    root = typer.main.get_command(app)
    for name, entry in COMMANDS.items():
        command = root.build(name)  # type: ignore[attr-defined]
        first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
        assert entry.summary == first_paragraph, name
