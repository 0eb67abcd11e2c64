"""One-shot `connect call` takes the tool's schema from the listing cached by an earlier command.

The server here logs each request it gets, so the tests count `tools/list`
requests where they arrive. The cache file is untrusted input: a corrupt one
is ignored, a hostile entry dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncmcp_cli.cli.connect import tool_cache
from tests.cli.connect_support import connect, serving
from tests.conftest import Queues

pytestmark = pytest.mark.timeout(180)

STRING_SCHEMA = {"type": "object", "properties": {"values": {"type": "string"}}, "required": ["values"]}
ARRAY_SCHEMA = {
    "type": "object",
    "properties": {"values": {"type": "array", "items": {"type": "integer"}}},
    "required": ["values"],
}


class Listing:
    """The test server's control directory: its tool's schema, and the requests it got."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def schema(self, schema: dict) -> None:
        (self.directory / "schema.json").write_text(json.dumps(schema))

    def requests(self) -> list[str]:
        log = self.directory / "requests.log"
        return log.read_text().split() if log.exists() else []


@pytest.fixture
def listing(queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Listing]:
    control = Listing(tmp_path)
    control.schema(STRING_SCHEMA)
    monkeypatch.setenv("LISTING_APP_DIR", str(tmp_path))
    with serving(queues, tmp_path / "serve.log", app="tests/cli/listingapp.py:server"):
        yield control


def test_a_second_call_sends_no_tools_list(queues: Queues, listing: Listing) -> None:
    first = connect(queues, "call", "total", "values=1+2")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "3\n"
    assert listing.requests() == ["tools/list", "tools/call"]

    second = connect(queues, "call", "total", "values=4+5")
    assert second.returncode == 0, second.stderr
    assert second.stdout == "9\n"
    assert listing.requests() == ["tools/list", "tools/call", "tools/call"]  # one round trip


def test_a_stale_schema_is_refreshed_and_the_refused_call_resent(queues: Queues, listing: Listing) -> None:
    assert connect(queues, "tools").returncode == 0  # lists, and fills the cache
    listing.schema(ARRAY_SCHEMA)  # the server changes its tool

    changed = connect(queues, "call", "total", "values=1,2")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == "3\n"
    # converted by the cached schema (a string): refused, listed again, converted to [1, 2] and resent
    assert listing.requests() == ["tools/list", "tools/call", "tools/list", "tools/call"]

    again = connect(queues, "call", "total", "values=3,4")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "7\n"
    assert listing.requests()[4:] == ["tools/call"]  # the refreshed schema was kept


def test_a_corrupt_cache_file_is_ignored(queues: Queues, listing: Listing) -> None:
    path = tool_cache.default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00{not json")

    called = connect(queues, "call", "total", "values=1+1")
    assert called.returncode == 0, called.stderr
    assert called.stdout == "2\n"
    assert listing.requests() == ["tools/list", "tools/call"]
    assert json.loads(path.read_text())["version"] == tool_cache.VERSION  # rewritten whole


def test_hostile_entries_are_dropped_on_load(tmp_path: Path) -> None:
    path = tmp_path / "tool-listings.json"
    tools = [
        {"name": "fine", "inputSchema": {"type": "object"}},
        {"name": "bad\x1b[2Jname", "inputSchema": {"type": "object"}},
        {"name": "x" * 10_000, "inputSchema": {"type": "object"}},
        {"name": "no-schema"},
        "not a tool",
    ]
    servers = {
        "a" * 32: {"saved_at": 1.0, "tools": tools},
        "b" * 32: {"saved_at": "yesterday", "tools": [{"name": "wrong", "inputSchema": {}}]},
        "c" * 32: {"saved_at": 9e18, "tools": [{"name": "future", "inputSchema": {}}]},
    }
    path.write_text(json.dumps({"version": tool_cache.VERSION, "servers": servers}))
    assert tool_cache.tool_names(path) == ["fine"]

    path.write_bytes(b" " * (tool_cache.MAX_FILE_BYTES + 1))
    assert tool_cache.tool_names(path) == []


def test_the_cache_keeps_a_bounded_number_of_servers(tmp_path: Path) -> None:
    import mcp_types as types

    path = tmp_path / "tool-listings.json"
    for n in range(tool_cache.MAX_SERVERS + 5):
        tool = types.Tool(name=f"tool{n}", input_schema={"type": "object"})
        tool_cache.ListingCache(f"server{n}", path).store([tool])
    kept = json.loads(path.read_text())["servers"]
    assert len(kept) == tool_cache.MAX_SERVERS
    assert tool_cache.tool_names(path) == [f"tool{tool_cache.MAX_SERVERS + 4}"]  # the newest
    assert os.stat(path).st_size < tool_cache.MAX_FILE_BYTES
