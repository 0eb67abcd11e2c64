"""The stdio front's own answer to ``initialize``: the SDK's negotiation, standard library only."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION

from asyncmcp_cli.proxy import early

CLIENT = {"name": "host", "version": "1"}


def test_the_versions_are_the_sdks() -> None:
    assert tuple(HANDSHAKE_PROTOCOL_VERSIONS) == early.HANDSHAKE_VERSIONS
    assert early.LATEST_HANDSHAKE_VERSION == LATEST_HANDSHAKE_VERSION


def test_importing_it_loads_neither_the_sdk_nor_a_transport() -> None:
    heavy = "('mcp', 'mcp_types', 'boto3', 'httpx2', 'anyio')"
    code = f"import sys, asyncmcp_cli.proxy.early; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("asked", "answered"), [("2025-06-18", "2025-06-18"), ("1999-01-01", LATEST_HANDSHAKE_VERSION)]
)
def test_a_well_formed_initialize_is_answered(asked: str, answered: str) -> None:
    request = {"jsonrpc": "2.0", "id": 7, "method": "initialize"}
    request["params"] = {"protocolVersion": asked, "capabilities": {}, "clientInfo": CLIENT}
    line = json.dumps(request).encode() + b"\n"
    out = io.BytesIO()
    first = early.answer_initialize(io.BytesIO(line + b'{"next": 1}\n'), out)
    assert first == early.FirstLine(line, 7)
    answer = json.loads(out.getvalue())
    assert answer["id"] == 7 and answer["result"]["protocolVersion"] == answered
    assert "tools" in answer["result"]["capabilities"]


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json\n",
        b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}\n',
        b'{"jsonrpc":"2.0","id":true,"method":"initialize","params":{}}\n',
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}\n',
    ],
)
def test_anything_else_is_left_for_the_sdk(line: bytes) -> None:
    out = io.BytesIO()
    assert early.answer_initialize(io.BytesIO(line), out) == early.FirstLine(line)
    assert out.getvalue() == b""


def test_a_remembered_identity_is_answered_and_a_bad_one_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    backend_answer = {
        "protocolVersion": "2025-11-25",
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "reports", "version": "3"},
        "instructions": "Ask for a month.",
    }
    identity = early.identity_of(backend_answer)
    assert identity is not None
    early.save_identity("k", identity)
    params = {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": CLIENT}
    assert early.initialize_result(params, early.load_identity("k")) == backend_answer | {
        "protocolVersion": "2025-03-26"
    }

    early.identity_path("k").write_text('{"serverInfo": {"name": 7}}')
    assert early.load_identity("k") is None
    early.identity_path("k").write_text(json.dumps(identity | {"instructions": "x" * early.IDENTITY_LIMIT}))
    assert early.load_identity("k") is None
    assert early.load_identity("never-saved") is None
    assert early.identity_of({"serverInfo": {"name": "a", "version": "1"}, "capabilities": []}) is None
