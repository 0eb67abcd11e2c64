"""Named MCP servers from a config file in the desktop hosts' ``mcpServers`` format.

```json
{"mcpServers": {
  "time":    {"command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "UTC"}},
  "remote":  {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ..."}},
  "reports": {"url": "sqs://reports-requests?reply_queue=reports-replies"}
}}
```

An entry has either ``command`` (with optional ``args`` and ``env``: a stdio
server), or ``url`` (with optional ``headers``): an ``http(s)://`` URL is a
streamable HTTP server, any other is an asyncmcp transport URL. Other keys
(``type``, ``disabled``, what hosts add) are ignored. The file is the
operator's own (trusted, like a profile: it names commands to run), but it is
checked, so a mistake is one line naming the entry and the key, not a
traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncmcp_cli.errors import UsageError

CONFIG_ENV = "ASYNCMCP_CONFIG"


class ServerConfigError(UsageError):
    """The config file is missing, not JSON, or an entry is malformed (exit 2)."""


@dataclass(frozen=True)
class NamedServer:
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_http(self) -> bool:
        return self.url is not None and self.url.startswith(("http://", "https://"))

    @property
    def is_transport(self) -> bool:
        """A server behind an asyncmcp transport (``sqs://...``), not an ordinary MCP server."""
        return self.url is not None and not self.is_http


def load(path: str | Path) -> dict[str, NamedServer]:
    """Every entry of the file's ``mcpServers``, checked."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ServerConfigError(f"cannot read the server config {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ServerConfigError(f"server config {str(path)!r} is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ServerConfigError(f"server config {str(path)!r} is not JSON: {exc}") from None
    servers = document.get("mcpServers") if isinstance(document, dict) else None
    if not isinstance(servers, dict):
        raise ServerConfigError(f'server config {str(path)!r} has no "mcpServers" object')
    return {str(name): _entry(str(name), entry, path) for name, entry in servers.items()}


def lookup(name: str, path: str | Path) -> NamedServer:
    servers = load(path)
    if name in servers:
        return servers[name]
    from asyncmcp_cli.protocol.arguments import suggest

    hint = suggest(name, servers)
    known = f" (it names: {', '.join(sorted(servers))})" if servers else " (it names none)"
    maybe = f"; did you mean {hint!r}?" if hint else known
    raise ServerConfigError(f"no server named {name!r} in {str(Path(path).expanduser())!r}{maybe}")


def named(transport: str, config: str | None) -> NamedServer | None:
    """The entry a ``--transport`` value names, or None when it is a transport name or URL.

    A transport name (``sqs``) or URL always means the transport; only another
    word is looked up, and only in a config file that was given.
    """
    if config is None or "://" in transport:
        return None
    from asyncmcp_cli.transports.registry import known

    return None if transport in known() else lookup(transport, config)


def transport_of(transport: str, config: str | None) -> str:
    """`transport`, or the transport URL of the entry it names (which must be one)."""
    entry = named(transport, config)
    if entry is None:
        return transport
    if not entry.is_transport:
        kind = f"the {'HTTP' if entry.is_http else 'stdio'} MCP server {entry.url or entry.command!r}"
        raise ServerConfigError(f"{entry.name!r} is {kind}, not a server behind an asyncmcp transport")
    return str(entry.url)


def _entry(name: str, entry: Any, path: Path) -> NamedServer:
    where = f"server {name!r} in {str(path)!r}"
    if not isinstance(entry, dict):
        raise ServerConfigError(f'{where} must be an object with "command" or "url"')
    has_command, has_url = "command" in entry, "url" in entry
    if has_command == has_url:
        raise ServerConfigError(f'{where} needs exactly one of "command" (stdio) or "url" (HTTP or a transport)')
    if has_command:
        command = entry["command"]
        if not isinstance(command, str) or not command.strip():
            raise ServerConfigError(f'{where}: "command" must be a non-empty string')
        args = entry.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ServerConfigError(f'{where}: "args" must be a list of strings')
        return NamedServer(name, command=command, args=tuple(args), env=_strings(entry.get("env"), "env", where))
    url = entry["url"]
    if not isinstance(url, str) or "://" not in url:
        raise ServerConfigError(f'{where}: "url" must be a URL (http://, https://, or a transport such as sqs://)')
    return NamedServer(name, url=url, headers=_strings(entry.get("headers"), "headers", where))


def _strings(value: Any, key: str, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ServerConfigError(f'{where}: "{key}" must be an object of strings')
    return dict(value)
