"""The reference TypeScript Tasks requester (npm `@modelcontextprotocol/ext-tasks`) through `asyncmcp proxy`
against `asyncmcp serve --task-tool` over SQS.

The package is a client (requester) only; its session drives tools/call, tasks/get and friends itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.processes import proxying, serving
from tests.conftest import Queues
from tests.interop.peers import INSTALL_HINT, ROOT

pytestmark = pytest.mark.timeout(180)

SCRIPT = Path(__file__).with_name("ext_tasks_client.mjs")
PREFIX = ROOT / ".npm-peers"


def ext_tasks_script() -> Path:
    """The requester script, next to the installed package (ESM resolves packages from the script's folder)."""
    if shutil.which("node") is None:
        pytest.skip(f"node is not installed, so @modelcontextprotocol/ext-tasks cannot run; {INSTALL_HINT}")
    if not (PREFIX / "node_modules" / "@modelcontextprotocol" / "ext-tasks").exists():
        pytest.skip(f"npm peer @modelcontextprotocol/ext-tasks is not installed in .npm-peers; {INSTALL_HINT}")
    placed = PREFIX / SCRIPT.name
    if not placed.exists() or placed.read_text() != SCRIPT.read_text():
        shutil.copyfile(SCRIPT, placed)
    return placed


def requester(url: str, tool: str, arguments: dict[str, object]) -> dict[str, object]:
    done = subprocess.run(
        ["node", str(ext_tasks_script()), url, tool, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_reference_requester_runs_a_task_through_the_proxy(queues: Queues) -> None:
    script = ext_tasks_script()
    assert script.exists()
    with serving(queues, "--task-tool", "sleep", "--task-poll-interval", "0.2"), proxying(queues) as (url, _):
        tasked = requester(url, "sleep", {"seconds": 1})
        plain = requester(url, "add", {"a": 2, "b": 40})
    assert tasked["text"] == "slept 1s" and tasked["isError"] is False
    assert "tasks/get" in tasked["methods"], tasked  # it was a task, followed with tasks/get
    assert plain["text"] == "42.0" and "tasks/get" not in plain["methods"]
