"""Where a client connects: an asynchronous transport, or an ordinary MCP server.

One client serves both worlds:

- a transport from the registry (``sqs``, ``sqs://QUEUE?...``, ``memory://NAME``, ...);
- an ordinary MCP server started as a subprocess over stdio (``--stdio "COMMAND ARGS"``);
- an ordinary MCP server at a streamable HTTP URL (``http://host/mcp``, ``https://...``).

The default protocol era differs: queues want the stateless era (any server
instance answers any request), while an ordinary server may only speak the
handshake, so stdio and HTTP default to ``auto`` (ask with ``server/discover``,
fall back to ``initialize``).

Errors from starting a subprocess or reaching a URL are translated here into
the `asyncmcp_cli.errors` tree, like every other foreign error.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED

from asyncmcp_cli import __version__
from asyncmcp_cli._groups import single_errors
from asyncmcp_cli.client import ERAS
from asyncmcp_cli.errors import ConfigurationError, EndpointUnreachableError
from asyncmcp_cli.transports.base import Transport

Kind = Literal["transport", "stdio", "http"]

HTTP_SCHEMES = ("http://", "https://")

CLIENT_INFO = types.Implementation(name="asyncmcp", version=__version__)
"""How this client introduces itself to servers."""


@dataclass
class Target:
    """An MCP server to connect to, and how."""

    kind: Kind
    transport: Transport | None = None
    stdio: StdioServerParameters | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Sent with every HTTP request to `url`."""

    @classmethod
    def for_transport(cls, transport: Transport) -> Target:
        return cls("transport", transport=transport)

    @classmethod
    def for_stdio(cls, command: str, *, env: dict[str, str] | None = None, cwd: str | None = None) -> Target:
        """An ordinary server started as ``command`` (split like a shell would; no shell runs it).

        It inherits this process's environment, as any child of a shell would, with `env` on top.
        """
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise ConfigurationError(f"--stdio {command!r} cannot be split into words: {exc}") from None
        if not words:
            raise ConfigurationError("--stdio needs a command")
        return cls.for_command(words, env=env, cwd=cwd)

    @classmethod
    def for_command(cls, argv: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None) -> Target:
        """An ordinary server started as `argv`; a bare ``python`` is this interpreter (see `servers.commands`)."""
        from asyncmcp_cli.servers.commands import resolve_command

        environment = dict(os.environ) | (env or {})
        command = resolve_command(argv[0])
        return cls("stdio", stdio=StdioServerParameters(command=command, args=list(argv[1:]), env=environment, cwd=cwd))

    @classmethod
    def for_url(cls, url: str, *, headers: dict[str, str] | None = None) -> Target:
        if not is_http_url(url):
            raise ConfigurationError(f"not an http(s) URL: {url!r}")
        return cls("http", url=url, headers=dict(headers or {}))

    @property
    def default_era(self) -> str:
        return "stateless" if self.kind == "transport" else "auto"

    def describe(self) -> dict[str, Any]:
        if self.kind == "transport":
            assert self.transport is not None
            return self.transport.describe()
        if self.kind == "stdio":
            assert self.stdio is not None
            return {"transport": "stdio", "command": shlex.join([self.stdio.command, *self.stdio.args])}
        return {"transport": "http", "url": self.url}

    def label(self) -> str:
        """One short line for banners: ``sqs asyncmcp-requests``, ``stdio python server.py``."""
        described = self.describe()
        if self.kind == "transport":
            rest = [str(v) for k, v in described.items() if k in ("request_queue", "name", "topic", "url")]
            return " ".join([str(described.get("transport", "")), *rest]).strip()
        return f"{described['transport']} {described.get('command') or described.get('url')}"


def is_http_url(text: str) -> bool:
    """A streamable HTTP server's URL, as opposed to a registry transport name or URL."""
    return text.startswith(HTTP_SCHEMES)


def resolve_target(
    transport: str = "sqs",
    *,
    stdio: str | None = None,
    stdio_env: dict[str, str] | None = None,
    **transport_options: Any,
) -> Target:
    """The target the ``--transport`` / ``--stdio`` options name.

    ``--stdio`` wins; an ``http(s)://`` transport is a streamable HTTP server;
    anything else goes to the transport registry with `transport_options`.
    """
    if stdio:
        return Target.for_stdio(stdio, env=stdio_env)
    if is_http_url(transport):
        return Target.for_url(transport)
    from asyncmcp_cli.transports.registry import resolve

    return Target.for_transport(resolve(transport, **transport_options))


@asynccontextmanager
async def open_target(
    target: Target,
    *,
    era: str | None = None,
    client_id: str | None = None,
    timeout: float | None = None,
    **client_options: Any,
) -> AsyncIterator[Client]:
    """An `mcp.Client` connected to `target` (`client_options` go to `mcp.Client`)."""
    era = era or target.default_era
    if era not in ERAS:
        raise ConfigurationError(f"unknown protocol era {era!r}; choose one of {', '.join(ERAS)}")
    if target.kind == "transport":
        assert target.transport is not None
        server: Any = target.transport.connect(client_id=client_id)
    elif target.kind == "stdio":
        server = target.stdio
    elif target.headers:
        server = _http_with_headers(str(target.url), target.headers)
    else:
        server = target.url
    client_options.setdefault("client_info", CLIENT_INFO)
    client = Client(server, mode=ERAS[era], read_timeout_seconds=timeout, **client_options)
    async with AsyncExitStack() as stack:
        try:
            with single_errors():
                entered = await stack.enter_async_context(client)
        except Exception as exc:
            mapped = _translate(exc, target, starting=True)
            if mapped is None:
                raise
            raise mapped from exc
        try:
            yield entered
        except Exception as exc:
            mapped = _translate(exc, target, starting=False)
            if mapped is None:
                raise
            raise mapped from exc


@asynccontextmanager
async def _http_with_headers(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    """The SDK's streamable HTTP client transport, sending `headers` with every request."""
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


def _translate(exc: Exception, target: Target, *, starting: bool) -> Exception | None:
    """Our error for a failure to reach the server, or None to let `exc` through unchanged."""
    if starting and isinstance(exc, OSError):
        return EndpointUnreachableError(f"cannot start or reach {target.label()}: {exc}")
    if isinstance(exc, MCPError) and exc.error.code == CONNECTION_CLOSED and target.kind != "transport":
        return EndpointUnreachableError(f"{target.label()} closed the connection")
    if target.kind == "http" and _is_http_connect_error(exc):
        return EndpointUnreachableError(f"cannot reach {target.url}: {exc}")
    return None


def _is_http_connect_error(exc: BaseException) -> bool:
    """httpx2's connection failures, without importing it where it is not used."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ConnectError", "ConnectTimeout", "NetworkError", "TransportError"})
