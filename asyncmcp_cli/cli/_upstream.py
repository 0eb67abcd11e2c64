"""`asyncmcp serve -- COMMAND ARGS...` and `--upstream URL`: which server `serve` runs.

Everything after a bare ``--`` is the upstream command, taken verbatim (its
own options are not ours to parse), so the command class splits it off before
Click sees the arguments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import typer
from typer.core import TyperCommand

from asyncmcp_cli.errors import UsageError

_UPSTREAM_ARGV = "asyncmcp.upstream_argv"


class UpstreamCommand(TyperCommand):
    """A Typer command that keeps ``-- COMMAND ARGS...`` aside for `upstream_argv`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[_UPSTREAM_ARGV] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "[-- COMMAND [ARGS]...]"]


def upstream_argv(ctx: typer.Context) -> list[str] | None:
    """The command given after ``--``, if any."""
    argv = ctx.meta.get(_UPSTREAM_ARGV)
    return list(argv) if argv is not None else None


def parse_headers(values: list[str] | None, *, what: str = "--upstream-header") -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values or []:
        name, sep, content = value.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise UsageError(f"{what} {value!r} is not 'Name: value'")
        if any(c in content for c in "\r\n\0"):
            raise UsageError(f"{what} {name.strip()!r} has a line break in its value")
        headers[name.strip()] = content.strip()
    return headers


def _upstream_target(value: str, headers: dict[str, str], config: str | None) -> Any:
    """``--upstream``: an http(s) URL, or the name of a server in the ``--config`` file."""
    from asyncmcp_cli.upstream import CommandTarget, UrlTarget

    if "://" in value or config is None:
        return UrlTarget(value, headers)
    from asyncmcp_cli.servers.config import lookup

    named = lookup(value, config)
    if named.command is not None:
        if headers:
            raise UsageError(f"--upstream-header is for an HTTP upstream; {value!r} is a command")
        return CommandTarget.of([named.command, *named.args], env=dict(named.env))
    if not named.is_http:
        raise UsageError(f"{value!r} is a server behind an asyncmcp transport ({named.url}), not one to serve")
    return UrlTarget(str(named.url), dict(named.headers) | headers)


@asynccontextmanager
async def chosen_server(
    app_ref: str | None,
    *,
    command: list[str] | None,
    upstream_url: str | None,
    upstream_headers: dict[str, str],
    upstream_timeout: float | None,
    upstream_sessions: str = "per-client",
    upstream_max_sessions: int = 8,
    config: str | None = None,
) -> AsyncIterator[Any]:
    """The SDK server to serve: an upstream mirror, the APP, or the demo."""
    given = {"APP": app_ref is not None, "-- COMMAND": command is not None, "--upstream": upstream_url is not None}
    chosen = [what for what, present in given.items() if present]
    if len(chosen) > 1:
        raise UsageError(f"give one server to serve, not {' and '.join(chosen)}")
    if command is not None and not command:
        raise UsageError("no upstream command after '--'")
    if command is not None or upstream_url:
        from asyncmcp_cli.upstream import CommandTarget, upstream_server

        target = (
            CommandTarget.of(command)
            if command is not None
            else _upstream_target(upstream_url or "", upstream_headers, config)
        )
        async with upstream_server(
            target,
            sessions="shared" if upstream_sessions == "shared" else "per-client",
            max_sessions=upstream_max_sessions,
            call_timeout=upstream_timeout,
        ) as server:
            yield server
        return
    from asyncmcp_cli.apps import as_lowlevel, load_server

    if app_ref:
        yield load_server(app_ref)
        return
    from asyncmcp_cli.demo import demo

    yield as_lowlevel(demo)
