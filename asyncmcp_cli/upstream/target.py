"""Where the existing MCP server is: a command to run on stdio, or a streamable HTTP URL.

Either way the SDK's own client transport connects to it (`stdio_client`,
`streamable_http_client`) and yields the usual stream pair; nothing about the
server has to change. A command inherits this process's environment, as any
child of a shell would, and its stderr goes to our log.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import httpx2
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.types import TransportStreams
from asyncmcp_cli.upstream.stderr import stderr_to_log


class UpstreamTarget(Protocol):
    """Something an SDK client transport can connect to."""

    def describe(self) -> str: ...

    def connect(self) -> AbstractAsyncContextManager[TransportStreams]: ...


@dataclass(frozen=True)
class CommandTarget:
    """An MCP server started as a subprocess and spoken to over its stdin/stdout."""

    command: str
    args: tuple[str, ...] = ()
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    """Set on top of this process's environment."""

    @classmethod
    def of(cls, argv: list[str] | tuple[str, ...], **kwargs: object) -> CommandTarget:
        """The command `argv`; a bare ``python`` is this interpreter (see `asyncmcp_cli.servers.commands`)."""
        from asyncmcp_cli.servers.commands import resolve_command

        if not argv or not argv[0]:
            raise ConfigurationError("no upstream command given after '--'")
        return cls(resolve_command(argv[0]), tuple(argv[1:]), **kwargs)  # type: ignore[arg-type]

    def describe(self) -> str:
        return shlex.join([self.command, *self.args])

    @property
    def label(self) -> str:
        return os.path.basename(self.command)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[TransportStreams]:
        parameters = StdioServerParameters(
            command=self.command, args=list(self.args), env=dict(os.environ) | dict(self.env), cwd=self.cwd
        )
        with stderr_to_log(self.label) as errlog:
            try:
                async with stdio_client(parameters, errlog=errlog) as streams:
                    yield streams
            except FileNotFoundError:
                raise ConfigurationError(f"cannot run the upstream server: no such command {self.command!r}") from None
            except PermissionError:
                raise ConfigurationError(
                    f"cannot run the upstream server: {self.command!r} is not executable"
                ) from None


@dataclass(frozen=True)
class UrlTarget:
    """An MCP server already running behind a streamable HTTP URL."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ConfigurationError(f"--upstream must be an http:// or https:// URL, got {self.url!r}")

    def describe(self) -> str:
        return self.url

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[TransportStreams]:
        timeout = httpx2.Timeout(30.0, read=300.0)  # the SDK's defaults: a response stream may stay open
        async with (
            httpx2.AsyncClient(headers=dict(self.headers), timeout=timeout) as client,
            streamable_http_client(self.url, http_client=client) as streams,
        ):
            yield streams
