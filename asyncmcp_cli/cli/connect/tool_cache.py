"""Tool listings remembered between one-shot `connect` commands, so a `call` needs no `tools/list` first.

Converting ``count=3`` to an integer needs the tool's input schema, and the
SDK checks a result against the tool's output schema: without the listing at
hand every `connect call` would first send `tools/list`, over a queue a round
trip as slow as the call itself. So each listing a command fetches is kept in
``$XDG_STATE_HOME/asyncmcp/tool-listings.json`` (``~/.local/state/...``) per
server, for a day, and the next command to that server is handed it through
the SDK's own response-cache hook (`ListingCache.config`): `tools/list` is
then answered here, and the SDK knows the tool's schemas as if it had listed.

The command refreshes the listing (one `tools/list`) when it may be out of
date: the tool is not in it, the arguments do not fit it, the server refused
the call as invalid or the tool reported an error (see `cached_call`); and the
SDK drops it when the server says its tool list changed.

What is in the file came from a server, so it is untrusted: the file is read
only up to `MAX_FILE_BYTES`, each entry is checked for shape on load (a bad
entry is dropped, a corrupt file ignored) and each tool is validated as an MCP
`Tool` before use; entries are bounded (`MAX_TOOLS`, `MAX_ENTRY_BYTES`), and so
is the number of servers (`MAX_SERVERS`, least recently used dropped first).
A server is named by a digest of where it is (transport, request queue,
endpoint, region; a stdio command; a URL), so the file names no queue or command.

Shell completion reads tool names from here too (`tool_names`), so importing
this module loads neither the SDK nor pydantic.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FILE_NAME = "tool-listings.json"
VERSION = 1
KEEP_SECONDS = 24 * 60 * 60
"""How long a listing is used before it is fetched again anyway."""
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_SERVERS = 32
MAX_TOOLS = 1000
MAX_ENTRY_BYTES = 1024 * 1024
MAX_NAME_LENGTH = 256

_CLIENT_SIDE = ("reply_queue", "client_id", "webhook_listen")
"""Parts of a target's description that belong to this client, not to the server."""


def default_path() -> Path:
    """``$XDG_STATE_HOME/asyncmcp/tool-listings.json`` (``~/.local/state`` when unset)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "asyncmcp" / FILE_NAME


def server_key(described: Mapping[str, Any]) -> str:
    """A digest naming one server, from `Target.describe()` without the client's own parts."""
    server = {k: str(v) for k, v in described.items() if k not in _CLIENT_SIDE}
    return hashlib.sha256(json.dumps(server, sort_keys=True).encode()).hexdigest()[:32]


def tool_names(path: Path | None = None) -> list[str]:
    """The tool names of the server used most recently (for shell completion; no SDK, no pydantic)."""
    servers = _read(path or default_path())
    if not servers:
        return []
    newest = max(servers.values(), key=lambda entry: entry["saved_at"])
    return sorted({tool["name"] for tool in newest["tools"]})


class ListingCache:
    """The cached listing of one server, for one command."""

    def __init__(self, key: str, path: Path | None = None) -> None:
        self.key = key
        self.path = path or default_path()
        self.served = False
        """Whether the SDK was handed the cached listing instead of asking the server."""

    def config(self) -> Any:
        """`mcp.Client(cache=...)`: the SDK's response cache, answered from this file for `tools/list`."""
        from mcp.client.caching import CacheConfig

        return CacheConfig(store=_Store(self), partition="asyncmcp-cli", target_id=self.key)

    def listing(self) -> Any:
        """The cached `ListToolsResult` (each tool validated), or None: none kept, expired, or not valid."""
        import mcp_types as types
        from pydantic import ValidationError

        entry = _read(self.path).get(self.key)
        if entry is None or entry["saved_at"] + KEEP_SECONDS <= time.time():
            return None
        try:
            return types.ListToolsResult(tools=[types.Tool.model_validate(tool) for tool in entry["tools"]])
        except ValidationError:
            logger.info("ignoring a cached tool listing that does not validate")
            return None

    def saved_at(self) -> float:
        entry = _read(self.path).get(self.key)
        return entry["saved_at"] if entry else 0.0

    def store(self, tools: list[Any]) -> None:
        """Keep a listing fetched from the server (`mcp_types.Tool` objects), replacing this server's."""
        dumped = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools[:MAX_TOOLS]]
        if len(json.dumps(dumped)) > MAX_ENTRY_BYTES:
            logger.info("not caching a tool listing larger than %d bytes", MAX_ENTRY_BYTES)
            self.forget()
            return
        servers = _read(self.path)
        servers[self.key] = {"saved_at": time.time(), "tools": dumped}
        _write(self.path, servers)

    def forget(self) -> None:
        servers = _read(self.path)
        if servers.pop(self.key, None) is not None:
            _write(self.path, servers)


class _Store:
    """The SDK's `ResponseCacheStore` for one client: serves the cached `tools/list`, nothing else.

    The SDK writes an entry only when the server allows caching (``ttlMs``); the
    command stores what it fetched itself (`ListingCache.store`). A delete (the
    server said its tools changed, or the listing was fetched again) drops the file's entry.
    """

    def __init__(self, cache: ListingCache) -> None:
        self.cache = cache

    async def get(self, key: Any) -> Any:
        from mcp.client.caching import CacheEntry

        if key.method != "tools/list" or key.params_key:
            return None
        listing = self.cache.listing()
        if listing is None:
            return None
        self.cache.served = True
        return CacheEntry(value=listing, scope="private", expires_at=self.cache.saved_at() + KEEP_SECONDS)

    async def set(self, key: Any, entry: Any) -> None:
        if key.method == "tools/list" and not key.params_key:
            self.cache.store(list(entry.value.tools))

    async def delete(self, key: Any) -> None:
        if key.method == "tools/list":
            self.cache.forget()

    async def clear(self) -> None:
        self.cache.forget()


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The servers in the file, each entry checked for shape; {} for a missing, oversized or corrupt file."""
    try:
        with path.open("rb") as source:
            raw = source.read(MAX_FILE_BYTES + 1)
    except OSError:
        return {}
    if len(raw) > MAX_FILE_BYTES:
        logger.info("ignoring the tool listing cache %s: larger than %d bytes", path, MAX_FILE_BYTES)
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        logger.info("ignoring the tool listing cache %s: not JSON", path)
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("servers"), dict):
        return {}
    servers: dict[str, dict[str, Any]] = {}
    for key, entry in list(data["servers"].items())[:MAX_SERVERS]:
        checked = _checked_entry(entry)
        if len(key) <= 64 and checked is not None:
            servers[key] = checked
    return servers


def _checked_entry(entry: Any) -> dict[str, Any] | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("tools"), list):
        return None
    saved_at = entry.get("saved_at")
    if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)) or saved_at > time.time() + 60:
        return None
    tools = [tool for tool in entry["tools"][:MAX_TOOLS] if _plausible_tool(tool)]
    return {"saved_at": float(saved_at), "tools": tools}


def _plausible_tool(tool: Any) -> bool:
    """A tool whose name is fit to print and complete, with an object input schema (validated fully on use)."""
    if not isinstance(tool, dict) or not isinstance(tool.get("inputSchema"), dict):
        return False
    name = tool.get("name")
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and name.isprintable() and " " not in name


def _write(path: Path, servers: dict[str, dict[str, Any]]) -> None:
    """Write the newest `MAX_SERVERS` entries atomically (a reader never sees half a file)."""
    newest = sorted(servers, key=lambda k: servers[k]["saved_at"], reverse=True)[:MAX_SERVERS]
    body = json.dumps({"version": VERSION, "servers": {k: servers[k] for k in newest}}, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tool-listings.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(body)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:  # the cache only saves a round trip: losing it costs one
        logger.warning("could not write the tool listing cache %s: %s", path, exc)
