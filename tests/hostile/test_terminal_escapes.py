"""Terminal escape injection: what a queue message or a server says never reaches the terminal raw.

OSC 0 (window title), OSC 8 (a hyperlink to file:///etc/passwd), CSI (7-bit
and the 8-bit 0x9b), a bidi override and Rich markup are put in message
bodies, client ids and methods (with raw boto3), and in everything a test
server answers. `tail` (table and --follow), `serve`'s log and `connect`
must show them as visible escapes: no ESC, BEL, C1 or bidi character in
their output, and the markup printed as text, not interpreted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asyncmcp_cli.protocol import codec
from tests.cli.connect_support import CLI, ROOT, cli_env, connect, serving
from tests.conftest import Queues, wait_until_sync
from tests.hostile.hostile_server import HOSTILE, OSC_LINK, RAW

pytestmark = pytest.mark.timeout(300)  # many CLI processes: generous on a loaded machine

ESCAPED = (
    r"\x1b]0;pwned\x07\x1b]8;;file:///etc/passwd\x1b\click here\x1b]8;;\x1b\\x1b[2J\x9b31m\u202eevil"
    "[link=file:///etc/passwd]markup[/link]"
)
"""HOSTILE as it must be shown: every control character escaped, the markup as plain text."""

HOSTILE_STDIO = f"{sys.executable} {ROOT / 'tests' / 'hostile' / 'hostile_server.py'}"
HOSTILE_APP = "tests/hostile/hostile_server.py:server"


def assert_nothing_raw(output: str) -> None:
    leaked = sorted({f"U+{ord(char):04X}" for char in output if char in RAW})
    assert not leaked, f"raw control characters reached the output: {leaked}\n{output!r}"


def put_hostile_messages(queues: Queues) -> None:
    """Two messages, as anyone who can write to the request queue could send them."""
    request = {"jsonrpc": "2.0", "id": "i" + HOSTILE, "method": "tools/call" + HOSTILE, "params": {"x": HOSTILE}}
    queues.sqs.send_message(
        QueueUrl=queues.request_url,
        MessageBody=json.dumps(request),  # escaped as \u001b on the wire, a real ESC once decoded
        MessageAttributes={
            codec.CLIENT_ID: {"DataType": "String", "StringValue": "evil" + HOSTILE},
            codec.REPLY_TO: {"DataType": "String", "StringValue": "https://evil.example/" + OSC_LINK},
        },
    )
    queues.sqs.send_message(
        QueueUrl=queues.request_url,
        MessageBody="not json " + HOSTILE,  # raw, and shown as the preview of an invalid message
        MessageAttributes={codec.CLIENT_ID: {"DataType": "String", "StringValue": "evil" + HOSTILE}},
    )


def tail(queues: Queues, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "tail", queues.request_url, *args],
        env=cli_env(queues),
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )


def test_tail_table_and_follow_show_message_fields_escaped(queues: Queues) -> None:
    put_hostile_messages(queues)

    table = tail(queues)
    assert table.returncode == 0, table.stderr
    assert "2 messages shown" in table.stderr
    assert_nothing_raw(table.stdout + table.stderr)
    assert r"tools/call\x1b]0;pwned" in table.stdout  # the method, visibly escaped
    assert r"evil\x1b]0;pw" in table.stdout  # the client id
    assert r"not json \x1b]0;pwned" in table.stdout  # the preview of the invalid body

    follow = tail(queues, "--follow", "--steal", "--count", "2", "--timeout", "60")
    assert follow.returncode == 0, follow.stderr
    assert_nothing_raw(follow.stdout + follow.stderr)
    assert r"tools/call\x1b]0;pwned" in follow.stdout
    assert r"not json \x1b]0;pwned" in follow.stdout

    as_json = tail(queues, "--json")  # unchanged: JSON escapes by itself
    assert_nothing_raw(as_json.stdout)
    assert json.loads(as_json.stdout.splitlines()[0])["body"]["method"] == "tools/call" + HOSTILE


def test_serve_logs_escaped_and_connect_shows_a_queued_answer_escaped(queues: Queues, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(queues, log, app=HOSTILE_APP):
        put_hostile_messages(queues)
        wait_until_sync(
            lambda: "refusing reply address" in log.read_text() and "without reply address" in log.read_text(),
            timeout=60,
        )
        called = connect(queues, "call", "payload")
    logged = log.read_bytes().decode()
    assert_nothing_raw(logged)
    assert r"from client 'evil\x1b]0;pwned" in logged  # the client id in the refusal
    assert r"not json \x1b]0;pwned" in logged  # the body preview of the dropped message

    assert called.returncode == 0, called.stderr
    assert called.stdout == f"result {ESCAPED}\n"
    assert_nothing_raw(called.stderr)


def test_connect_shows_every_kind_of_server_text_escaped() -> None:
    listed = connect(None, "tools", "--stdio", HOSTILE_STDIO)
    assert listed.returncode == 0, listed.stderr
    assert_nothing_raw(listed.stdout)
    assert r"\x1b]0;pwned" in listed.stdout  # the description

    schema = connect(None, "schema", "payload", "--stdio", HOSTILE_STDIO)
    assert schema.returncode == 0, schema.stderr
    assert_nothing_raw(schema.stdout)
    assert r"\x1b]0;pwned" in schema.stdout

    called = connect(None, "call", "payload", "--stdio", HOSTILE_STDIO, merge=True)
    assert called.returncode == 0, called.stdout
    assert_nothing_raw(called.stdout)
    lines = called.stdout.splitlines()
    assert f"server info: log {ESCAPED}" in lines  # a log notification
    assert lines[-1] == f"result {ESCAPED}"
    assert r"progress \x1b]0;pwned" in called.stdout  # a progress message

    failed = connect(None, "call", "explode", "--stdio", HOSTILE_STDIO)
    assert failed.returncode == 1
    assert_nothing_raw(failed.stderr)
    assert f"tool error {ESCAPED}" in failed.stderr

    read = connect(None, "read", "hostile://text", "--stdio", HOSTILE_STDIO)
    assert read.returncode == 0, read.stderr
    assert read.stdout == f"resource {ESCAPED}\n"

    refused = connect(None, "read", "hostile://broken", "--stdio", HOSTILE_STDIO)
    assert refused.returncode == 6
    assert_nothing_raw(refused.stderr)
    assert f"protocol error {ESCAPED}" in refused.stderr  # the one-line error: markup shown, not applied

    as_json = connect(None, "call", "payload", "--json", "--stdio", HOSTILE_STDIO)  # unchanged
    assert json.loads(as_json.stdout)["content"][0]["text"] == "result " + HOSTILE


def test_json_a_server_returns_is_escaped_when_highlighted_on_a_terminal() -> None:
    """On a terminal, text that is JSON is highlighted; Rich's own JSON re-encoding let C1 and bidi through."""
    import io

    import mcp_types as types
    from rich.console import Console

    from asyncmcp_cli.cli.connect import render

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, color_system=None, width=200)  # a terminal, no colours
    block = types.TextContent(type="text", text=json.dumps({"k": HOSTILE}, ensure_ascii=False))
    terminal.print(render.content_block(block, terminal))
    assert_nothing_raw(screen.getvalue())
    assert r'"k": "\u001b]0;pwned\u0007' in screen.getvalue()
