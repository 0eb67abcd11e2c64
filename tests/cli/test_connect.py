"""One-shot `asyncmcp connect` commands as real subprocesses: over SQS (moto), stdio and streamable HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from asyncmcp_cli.aws.local_aws import LocalEndpoint
from tests.cli.connect_support import RICH_STDIO, connect, fresh_queues, serving
from tests.conftest import Queues
from tests.servers import DEMO_STDIO, free_port, http_demo_server


@pytest.fixture(scope="module")
def demo(moto: LocalEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Queues]:
    """The demo server over SQS in its own process, shared by this module's read-only tests."""
    queues = fresh_queues(moto)
    with serving(queues, tmp_path_factory.mktemp("demo") / "serve.log"):
        yield queues


# -- over SQS, against the demo server ----------------------------------------


def test_tools_are_listed_as_a_table_and_as_json(demo: Queues) -> None:
    table = connect(demo, "tools")
    assert table.returncode == 0, table.stderr
    assert "4 tools" in table.stdout
    for word in ("echo", "add", "sleep", "fail", "Add two numbers.", "reason?", "async"):
        assert word in table.stdout

    listed = connect(demo, "tools", "--json")
    assert listed.returncode == 0, listed.stderr
    tools = {tool["name"]: tool for tool in json.loads(listed.stdout)}
    assert tools["add"]["inputSchema"]["required"] == ["a", "b"]


def test_a_call_converts_values_by_schema_and_prints_the_text(demo: Queues) -> None:
    added = connect(demo, "call", "add", "a=2", "b=40")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "42.0\n"

    echoed = connect(demo, "call", "echo", "text=42", "--json")
    assert echoed.returncode == 0, echoed.stderr
    result = json.loads(echoed.stdout)
    assert result["content"][0]["text"] == "42"  # a string argument stays a string
    assert result["isError"] is False


def test_a_mistyped_tool_or_bad_arguments_are_usage_errors_before_anything_is_sent(demo: Queues) -> None:
    typo = connect(demo, "call", "ad", "a=1", "b=2")
    assert typo.returncode == 2
    assert "unknown tool 'ad'; did you mean 'add'?" in typo.stderr

    bad = connect(demo, "call", "add", "a=two")
    assert bad.returncode == 2
    assert "'two' is not of type 'number'" in bad.stderr
    assert "missing required argument 'b' (number)" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_progress_is_shown_while_the_call_runs(demo: Queues) -> None:
    slept = connect(demo, "call", "sleep", "seconds=2", merge=True)
    assert slept.returncode == 0, slept.stdout
    lines = slept.stdout.splitlines()
    assert "progress 0/2 working (0/2)" in lines
    assert "progress 1/2 working (1/2)" in lines
    assert lines[-1] == "slept 2s"  # the progress came before the answer

    quiet = connect(demo, "call", "sleep", "seconds=1", "--quiet", merge=True)
    assert quiet.stdout == "slept 1s\n"


def test_a_tool_error_exits_1_and_goes_to_stderr(demo: Queues) -> None:
    failed = connect(demo, "call", "fail", "reason=on purpose")
    assert failed.returncode == 1
    assert "on purpose" in failed.stderr
    assert failed.stdout == ""


def test_resources_templates_and_reading(demo: Queues) -> None:
    resources = connect(demo, "resources")
    assert resources.returncode == 0, resources.stderr
    assert "demo://readme" in resources.stdout
    assert "text/markdown" in resources.stdout

    templates = connect(demo, "templates", "--json")
    assert templates.returncode == 0, templates.stderr
    assert json.loads(templates.stdout) == []

    read = connect(demo, "read", "demo://readme")
    assert read.returncode == 0, read.stderr
    assert read.stdout.startswith("# asyncmcp demo")

    read_json = connect(demo, "read", "demo://readme", "--json")
    assert json.loads(read_json.stdout)["contents"][0]["mimeType"] == "text/markdown"


def test_prompts_are_listed_and_filled_in(demo: Queues) -> None:
    prompts = connect(demo, "prompts", "--json")
    assert prompts.returncode == 0, prompts.stderr
    [summarize] = json.loads(prompts.stdout)
    assert summarize["arguments"][0] == {"name": "topic", "required": True}

    got = connect(demo, "prompt", "summarize", "topic=queues")
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == ["user:", "Summarize queues in three sentences."]

    missing = connect(demo, "prompt", "summarize", "topc=queues")
    assert missing.returncode == 2
    assert "did you mean 'topic'" in missing.stderr


def test_schema_shows_one_tool(demo: Queues) -> None:
    shown = connect(demo, "schema", "sleep")
    assert shown.returncode == 0, shown.stderr
    assert "seconds" in shown.stdout
    assert "number" in shown.stdout
    assert "input schema" in shown.stdout
    assert "output schema" in shown.stdout


# -- exit codes without a server ----------------------------------------------


def test_no_server_on_the_queue_is_a_timeout(queues: Queues) -> None:
    waited = connect(queues, "tools", "--timeout", "2")
    assert waited.returncode == 5, waited.stderr
    assert "timed out" in waited.stderr.lower()


def test_an_endpoint_nobody_listens_on_is_unreachable(queues: Queues) -> None:
    down = connect(queues, "tools", "--endpoint-url", f"http://127.0.0.1:{free_port()}", "--timeout", "5")
    assert down.returncode == 4, down.stderr
    assert "Traceback" not in down.stderr


def test_options_belong_after_the_subcommand() -> None:
    misplaced = connect(None, "--stdio", DEMO_STDIO, "tools")
    assert misplaced.returncode == 2
    assert "put options after the subcommand: asyncmcp connect tools --stdio" in misplaced.stderr


def test_help_documents_the_exit_codes() -> None:
    shown = connect(None, "--help")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    for phrase in ("2 usage error", "4 transport unreachable", "5 timed out", "7 not answered yet", "130 cancelled"):
        assert phrase in text


# -- ordinary MCP servers: stdio and streamable HTTP ----------------------------


def test_an_ordinary_stdio_server() -> None:
    added = connect(None, "call", "add", "a=1.5", "b=2", "--stdio", DEMO_STDIO)
    assert added.returncode == 0, added.stderr
    assert added.stdout == "3.5\n"

    missing = connect(None, "tools", "--stdio", "no-such-mcp-server")
    assert missing.returncode == 4
    assert "no-such-mcp-server" in missing.stderr


def test_schema_driven_values_logging_and_images_over_stdio() -> None:
    typed = connect(
        None,
        "call",
        "inspect_args",
        "count=3",
        "flag=yes",
        "tags=a,b",
        "numbers=1",
        "numbers=2",
        'point={"x": 1, "y": 2}',
        "mode=slow",
        "--stdio",
        RICH_STDIO,
    )
    assert typed.returncode == 0, typed.stderr
    echoed = json.loads(typed.stdout)
    assert echoed["values"] == {
        "count": 3,
        "ratio": 1.0,
        "flag": True,
        "tags": ["a", "b"],
        "numbers": [1, 2],
        "point": {"x": 1, "y": 2},
        "mode": "slow",
        "note": None,
    }

    chatty = connect(None, "call", "chatty", "times=2", "--stdio", RICH_STDIO, merge=True)
    assert chatty.returncode == 0, chatty.stdout
    assert chatty.stdout.splitlines()[-3:] == ["server info: step 1 of 2", "server info: step 2 of 2", "done talking"]

    picture = connect(None, "call", "picture", "--stdio", RICH_STDIO)
    assert picture.stdout.strip() == "[image image/png, 66 bytes]"


def test_resource_templates_over_stdio() -> None:
    templates = connect(None, "templates", "--stdio", RICH_STDIO)
    assert "rich://items/{item_id}" in templates.stdout
    item = connect(None, "read", "rich://items/7", "--stdio", RICH_STDIO)
    assert json.loads(item.stdout) == {"id": "7", "name": "item 7"}


def test_an_ordinary_streamable_http_server() -> None:
    with http_demo_server() as url:
        listed = connect(None, "tools", "--json", "--transport", url)
        echoed = connect(None, "call", "echo", "text=over http", "--transport", url)
    assert listed.returncode == 0, listed.stderr
    assert {t["name"] for t in json.loads(listed.stdout)} >= {"echo", "add"}
    assert echoed.stdout == "over http\n"
