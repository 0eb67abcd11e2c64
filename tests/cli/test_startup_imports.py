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
    helpers = {"asyncmcp_cli.cli.lazy", "asyncmcp_cli.cli.rich_help"}
    assert not {m for m in modules if m.startswith("asyncmcp_cli.cli.") and m not in helpers}
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


HELP_ONLY = ("markdown_it", "pygments")
"""What Typer's help module imports for Markdown help and pretty tracebacks, neither of which the CLI shows."""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("args", [["--help"], ["connect", "--help"], ["connect", "call", "--help"]], ids=" ".join)
def test_help_loads_no_markdown_or_traceback_renderer(args: list[str]) -> None:
    output, modules = run_listing(args, COLUMNS="120")
    assert "Usage:" in output and "╭─ Options" in output  # Typer's Rich help, panels and all
    loaded = {name.split(".")[0] for name in modules}
    assert not loaded & set(HELP_ONLY), sorted(loaded & set(HELP_ONLY))
    assert not {"rich.markdown", "rich.traceback"} & modules


@pytest.mark.timeout(120)
@pytest.mark.parametrize("words", ["asyncmcp connect ca", "asyncmcp connect call --transport "])
def test_completion_loads_no_rich(words: str) -> None:
    """A completion answers with words: nothing is rendered, so Rich (its consoles included) is not loaded."""
    output, modules = run_listing(
        [], _ASYNCMCP_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(words.split(" ")) - 1)
    )
    assert output.split()  # it did answer
    assert "rich" not in {name.split(".")[0] for name in modules}


_IMPORT_AND_LIST = (
    "import json, sys, importlib; importlib.import_module(sys.argv[1]); print(json.dumps(sorted(sys.modules)))"
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("module", ["asyncmcp_cli.provision", "asyncmcp_cli.provision.policies"])
def test_provisioning_and_stores_load_no_sdk(module: str) -> None:
    """Bucket key prefixes and attribute names come from light modules, not from the codec (which loads the SDK)."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_AND_LIST, module], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert module.split(".")[0] in loaded
    assert not loaded & {"mcp", "mcp_types"}, sorted(loaded & {"mcp", "mcp_types"})


@pytest.mark.timeout(120)
def test_provision_local_loads_no_sdk(moto, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`asyncmcp provision local` creates queues with boto3 alone: the MCP SDK is never loaded."""
    output, modules = run_listing(
        ["provision", "local", "--prefix", f"imports{os.getpid()}", "--transport", "sqs", "--json"],
        **moto.exports(),
        ASYNCMCP_CONFIG_DIR=str(tmp_path),
    )
    assert json.loads(output)["profile"]  # it did provision
    loaded = {name.split(".")[0] for name in modules}
    assert "botocore" in loaded
    assert not loaded & {"mcp", "mcp_types"}, sorted(loaded & {"mcp", "mcp_types"})


A_TYPER_THAT_NEEDS_MORE = {
    "more-names": "from rich.markdown import Markdown, MarkdownContext\nfrom rich.traceback import Traceback\n",
    "used-at-load": "from rich.markdown import Markdown\nSHOWN = Markdown('**x**')\n",
}
"""Two ways a later `typer.rich_utils` could need more of the deferred modules while it loads."""

_LOAD_IT_THROUGH_THE_HOOK = """
import sys
sys.path.insert(0, sys.argv[1])
from asyncmcp_cli.cli import rich_help
rich_help._TARGET = "later_typer_rich_utils"
rich_help.install()
import later_typer_rich_utils as loaded
import rich.markdown
assert loaded.Markdown is rich.markdown.Markdown
assert type(getattr(loaded, "SHOWN", rich.markdown.Markdown("x"))) is rich.markdown.Markdown
print("loaded as shipped")
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("source", A_TYPER_THAT_NEEDS_MORE.values(), ids=A_TYPER_THAT_NEEDS_MORE.keys())
def test_a_typer_that_needs_more_of_the_deferred_modules_loads_as_shipped(tmp_path, source: str) -> None:  # type: ignore[no-untyped-def]
    """The help hook must never break Typer: a release that uses more of those modules at load gets the real ones."""
    (tmp_path / "later_typer_rich_utils.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_IT_THROUGH_THE_HOOK, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loaded as shipped"
