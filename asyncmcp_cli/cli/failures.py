"""Exit codes, and turning a failure into one line on stderr and the exit code that goes with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any, TypeVar

import typer

from asyncmcp_cli import errors
from asyncmcp_cli.cli.output import err_console

T = TypeVar("T")


class ExitCode(IntEnum):
    """Exit codes of every command (also listed in `--help`)."""

    OK = 0
    TOOL_ERROR = 1
    USAGE = 2
    CONFIGURATION = 3
    UNREACHABLE = 4
    TIMEOUT = 5
    PROTOCOL = 6
    PENDING = 7
    """`connect collect`: the answer is not on the reply queue yet."""
    GONE = 8
    """`connect collect`: the answer is gone: already collected on this machine, or its keep time has run out."""
    INTERRUPTED = 130
    """Ctrl-C (the running request was cancelled)."""


EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 the tool reported an error (isError) · 2 usage error · 3 bad configuration · "
    "4 transport unreachable (endpoint, credentials, queue) · 5 timed out · 6 the server answered with an error · "
    "7 collect: not answered yet · 8 collect: gone (already collected here, or expired)."
)


def exit_code_for(exc: BaseException) -> ExitCode:
    if isinstance(exc, errors.UsageError):
        return ExitCode.USAGE
    if isinstance(exc, (errors.ConfigurationError, errors.PayloadTooLargeError)):
        return ExitCode.CONFIGURATION
    if isinstance(exc, errors.TransportError):
        return ExitCode.UNREACHABLE
    if isinstance(exc, TimeoutError):
        return ExitCode.TIMEOUT
    return ExitCode.PROTOCOL


def fail(message: str, code: ExitCode) -> typer.Exit:
    """One line on stderr and the exit to raise. `message` may quote what a server or a message said."""
    from asyncmcp_cli.protocol import safe_text

    err_console.print(f"[bold red]error:[/] {safe_text.markup(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(int(code))


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine for a command, turning our errors into one line and an exit code."""
    import anyio
    from mcp.shared.exceptions import MCPError

    from asyncmcp_cli._groups import single_errors

    try:
        with single_errors():
            return anyio.run(main)
    except errors.AsyncMCPError as exc:
        raise fail(str(exc), exit_code_for(exc)) from None
    except MCPError as exc:
        raise fail(*describe_mcp_error(exc)) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def describe_mcp_error(exc: Any) -> tuple[str, ExitCode]:
    """What an SDK error means to the user: not sent (a local failure), timed out, or the server's answer."""
    from mcp_types import REQUEST_TIMEOUT

    from asyncmcp_cli.delivery import not_sent

    cause = not_sent.cause_of(exc.error.data)
    if cause is not None:
        if isinstance(cause, errors.EndpointUnreachableError):
            return f"request not sent: {cause}", exit_code_for(cause)
        return f"request not sent (a local error; the server was not contacted): {cause}", exit_code_for(cause)
    if exc.error.code == REQUEST_TIMEOUT:
        return f"timed out waiting for the answer: {exc}", ExitCode.TIMEOUT
    return f"server answered with an error: {exc}", ExitCode.PROTOCOL
