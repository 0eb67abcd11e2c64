"""Fire now, collect later, across processes: `connect call --no-wait`, then `connect collect`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.connect_support import connect, serving
from tests.conftest import Queues
from tests.servers import DEMO_STDIO


def test_a_request_waits_for_a_server_started_after_it_was_sent(queues: Queues, tmp_path: Path) -> None:
    fired = connect(queues, "call", "echo", "text=sent before the server", "--no-wait")
    assert fired.returncode == 0, fired.stderr
    receipt = fired.stdout.strip()  # alone on stdout, for R=$(asyncmcp connect call ... --no-wait)
    assert receipt.startswith("amr1.")
    assert "client id" in fired.stderr
    assert "reply queue" in fired.stderr
    assert queues.counts(queues.request_url)[0] == 1

    early = connect(queues, "collect", receipt)
    assert early.returncode == 7, early.stderr
    assert "not answered yet: tools/call echo" in early.stderr

    with serving(queues, tmp_path / "serve.log"):
        collected = connect(queues, "collect", receipt, "--wait", "30")
    assert collected.returncode == 0, collected.stderr
    assert collected.stdout == "sent before the server\n"

    again = connect(queues, "collect", receipt)
    assert again.returncode == 8  # collected once: the answer has been taken, here


def test_json_receipts_stdin_client_ids_and_tool_errors(queues: Queues, tmp_path: Path) -> None:
    fired = connect(queues, "call", "add", "a=2", "b=3", "--no-wait", "--json")
    assert fired.returncode == 0, fired.stderr
    receipt = json.loads(fired.stdout)
    assert receipt["method"] == "tools/call"
    assert receipt["name"] == "add"
    assert receipt["reply_queue"] == queues.reply_url

    failing = connect(queues, "call", "fail", "reason=broken later", "--no-wait", "--client-id", "batch-7")
    assert failing.returncode == 0, failing.stderr

    with serving(queues, tmp_path / "serve.log"):
        answered = connect(queues, "collect", "-", "--wait", "30", "--json", stdin=fired.stdout)
        failed = connect(queues, "collect", "--client-id", "batch-7", "--wait", "30")

    assert answered.returncode == 0, answered.stderr
    result = json.loads(answered.stdout)
    assert result["status"] == "answered"
    assert result["replies"][0]["result"]["content"][0]["text"] == "5.0"

    assert failed.returncode == 1, failed.stderr  # the tool reported an error
    assert "broken later" in failed.stderr


def test_pending_json_and_usage_errors(queues: Queues) -> None:
    fired = connect(queues, "call", "sleep", "seconds=1", "--no-wait")
    pending = connect(queues, "collect", fired.stdout.strip(), "--json")
    assert pending.returncode == 7
    assert json.loads(pending.stdout)["status"] == "pending"

    assert connect(queues, "collect").returncode == 2
    damaged = connect(queues, "collect", fired.stdout.strip()[:-10])
    assert damaged.returncode == 2
    assert "damaged" in damaged.stderr

    handshake = connect(queues, "call", "echo", "text=x", "--no-wait", "--era", "handshake")
    assert handshake.returncode == 2
    assert "stateless" in handshake.stderr

    over_stdio = connect(None, "call", "echo", "text=x", "--no-wait", "--stdio", DEMO_STDIO)
    assert over_stdio.returncode == 3
    assert "needs a queue transport" in over_stdio.stderr


def test_collect_says_when_the_keep_time_has_run_out(queues: Queues) -> None:
    fired = connect(queues, "call", "echo", "text=short-lived", "--no-wait", "--keep-for", "1")
    assert fired.returncode == 0, fired.stderr
    assert "kept for     1 s" in fired.stderr
    receipt = fired.stdout.strip()
    lapsed = connect(queues, "collect", receipt, "--wait", "2.5")  # no server: nothing comes, and 1 s passes
    assert lapsed.returncode == 8, lapsed.stderr
    assert "expired: tools/call echo" in lapsed.stderr
    as_json = connect(queues, "collect", receipt, "--json")
    assert as_json.returncode == 8
    assert json.loads(as_json.stdout)["status"] == "expired"
