"""What the commands share: options, error handling, output, logging.

Every command module imports this one, so it imports nothing heavy at load
(anyio, Rich's logging, the SDK): help and completion go through it.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from asyncmcp_cli import errors
from asyncmcp_cli.cli import completers
from asyncmcp_cli.transports.names import BUILTIN as BUILTIN_TRANSPORTS

T = TypeVar("T")

PIPE_WIDTH = 10_000
"""Columns a console writes when it is not a terminal: in effect unlimited, so a pipe or a log file gets
whole lines (nothing wrapped at 80 columns, no name cut to "asyncmc…"); `COLUMNS` still wins."""


def _console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if _is_terminal(stream) or os.environ.get("COLUMNS"):
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPE_WIDTH, soft_wrap=True)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


console = _console()
err_console = _console(stderr=True)


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 resource``, ``2 resources``, ``0 resources``."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


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


def _seconds(value: float | None, *, zero_ok: bool) -> float | None:
    if value is not None and (not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok)):
        raise typer.BadParameter(f"{value} is not a number of seconds {'>= 0' if zero_ok else '> 0'}")
    return value


def seconds(value: float | None) -> float | None:
    """A Typer callback for an option in seconds: finite and above zero (a typo fails before anything starts)."""
    return _seconds(value, zero_ok=False)


def seconds_or_zero(value: float | None) -> float | None:
    """A Typer callback for an option in seconds where zero means "none": finite and not negative."""
    return _seconds(value, zero_ok=True)


def valid_endpoint_url(ctx: typer.Context, value: str | None) -> str | None:
    """A Typer callback: an AWS endpoint must be an http(s) URL (checked before anything starts).

    Not while completing a word: that would load boto3 (through `aws`) on every Tab.
    """
    if not value or ctx.resilient_parsing:
        return value
    from asyncmcp_cli.aws import check_endpoint_url

    try:
        return check_endpoint_url(value)
    except errors.ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None


def setup_logging(level: str, log_format: str = "rich") -> None:
    """Log to stderr through Rich, or as JSON lines; untrusted text escaped either way.

    A logged value may be anything a queue or a server handed over: escaping
    happens in the formatter, so every log call is covered, not only the ones
    that remembered to (control characters shown as escapes for Rich, JSON
    string escapes for ``json``: see `asyncmcp_cli.observability.logs`).
    """
    from asyncmcp_cli.protocol import safe_text

    handler: logging.Handler
    if log_format == "json":
        from asyncmcp_cli.observability.logs import json_handler

        handler = json_handler(level)
    else:
        if err_console.width >= PIPE_WIDTH:  # not a terminal: one plain line per record, never padded or wrapped
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(safe_text.EscapingFormatter("[%(asctime)s] %(levelname)-8s %(message)s", datefmt="%X"))
        else:
            from rich.logging import RichHandler

            handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False, markup=False)
            handler.setFormatter(safe_text.EscapingFormatter("%(message)s", datefmt="[%X]"))
        if level.upper() != "DEBUG":
            handler.addFilter(_without_traceback)
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "mcp", "httpx", "httpcore", "httpx2", "uvicorn"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


@asynccontextmanager
async def observing(address: str | None, transport: str, *, worker_index: int) -> AsyncIterator[Any]:
    """``--metrics``: the health and metrics endpoint for the block (nothing of it is loaded without one)."""
    if address is None:
        yield None
        return
    from asyncmcp_cli.observability.health import observing as serving

    async with serving(address, transport, worker_index=worker_index) as bound:
        yield bound


def _without_traceback(record: logging.LogRecord) -> bool:
    """Log one line, not a traceback (libraries log theirs with `exc_info`): the stack is for --log-level debug."""
    if record.exc_info or record.exc_text:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {record.exc_info[1]}".splitlines()[0]
            record.args = None
        record.exc_info = None
        record.exc_text = None
    return True


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


LogLevel = Annotated[
    str,
    typer.Option(
        "--log-level",
        envvar="ASYNCMCP_LOG_LEVEL",
        help="Log level: debug, info, warning, error.",
        case_sensitive=False,
    ),
]


class LogFormat(str, Enum):
    rich = "rich"
    json = "json"


LogFormatOption = Annotated[
    LogFormat,
    typer.Option(
        "--log-format",
        envvar="ASYNCMCP_LOG_FORMAT",
        help="rich: readable lines for a terminal. json: one JSON object per line (time, level, message and, "
        "where known, client_id, request_id, method, queue, duration) for a log shipper.",
        case_sensitive=False,
    ),
]
MetricsOption = Annotated[
    str | None,
    typer.Option(
        "--metrics",
        metavar="HOST:PORT",
        envvar="ASYNCMCP_METRICS",
        help="Serve /healthz, /readyz and Prometheus /metrics on HOST:PORT (off by default). A host other than "
        "127.0.0.1 makes them reachable from other machines (what a scraper or probe in a cluster needs).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]

DEFAULT_CONNECT_TIMEOUT = 5.0
"""Seconds a one-shot command waits for the AWS endpoint's first answer before it exits 4."""

ConnectTimeout = Annotated[
    float,
    typer.Option(
        "--connect-timeout",
        envvar="ASYNCMCP_CONNECT_TIMEOUT",
        callback=seconds,
        help="Seconds to wait for the AWS endpoint to answer at all before exiting 4.",
    ),
]


@dataclass
class TransportOptions:
    """The options that pick and configure a transport, shared by serve/connect/proxy."""

    transport: str
    endpoint_url: str | None
    region: str | None
    request_queue: str | None
    reply_queue: str | None
    option: list[str] | None = None
    webhook_secret: list[str] | None = None
    webhook_listen: str | None = None
    profile: str | None = None
    config: str | None = None
    """A file of named servers (``mcpServers``): ``--transport NAME`` may name one of its entries."""
    from_command_line: frozenset[str] | None = None
    """The shared flags given on the command line (None: treat all as given). The others came from the
    environment or a profile, and apply only to the transports that take them."""

    def named_server(self) -> Any:
        """The ``--config`` entry ``--transport`` names, or None (see `asyncmcp_cli.servers.config.named`)."""
        from asyncmcp_cli.servers.config import named

        return named(self.transport, self.config)

    def transport_ref(self) -> str:
        """The transport name or URL, with a config entry's name replaced by its transport URL."""
        from asyncmcp_cli.servers.config import transport_of

        return transport_of(self.transport, self.config)

    def settings(self) -> dict[str, Any]:
        """Every option: flag > environment > profile, then ``-o`` on top."""
        return self._named() | parse_key_values(self.option or [], what="--option")

    def _named(self) -> dict[str, Any]:
        named = {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "request_queue": self.request_queue,
            "reply_queue": self.reply_queue,
            "webhook_secret": tuple(self.webhook_secret) if self.webhook_secret else None,
            "webhook_listen": self.webhook_listen,
        }
        from asyncmcp_cli.profiles import with_profile  # flag > env > profile > transport default

        return with_profile(self.transport_ref(), named, self.profile)

    def resolve(self, *, fallback: dict[str, Any] | None = None, **extra: Any) -> Any:
        """The transport. Options asked for explicitly (flags, ``-o``, `extra`) must be ones it takes;
        environment and profile defaults (``AWS_REGION`` for a webhook) are passed only where they apply,
        and so are the `fallback` values, which everything else overrides."""
        from asyncmcp_cli.transports.registry import resolve

        named = self._named()
        given = self.from_command_line
        defaults = {} if given is None else {k: named.pop(k) for k in list(named) if k not in given}
        defaults = _set(fallback or {}) | _set(defaults)
        explicit = named | parse_key_values(self.option or [], what="--option")
        return resolve(self.transport_ref(), defaults=defaults, **(explicit | _set(extra)))


def _set(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


_TRANSPORT_PARAMETERS = [
    inspect.Parameter(
        "transport",
        inspect.Parameter.KEYWORD_ONLY,
        default="sqs",
        annotation=Annotated[
            str,
            typer.Option(
                "--transport",
                "-t",
                envvar="ASYNCMCP_TRANSPORT",
                help=f"Transport name ({', '.join(BUILTIN_TRANSPORTS)}, or one a package installs) or URL "
                "(sqs://QUEUE?reply_queue=...).",
                rich_help_panel="Transport",
                autocompletion=completers.transports,
            ),
        ],
    ),
    inspect.Parameter(
        "endpoint_url",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option(
                "--endpoint-url",
                envvar="AWS_ENDPOINT_URL",
                callback=valid_endpoint_url,
                help="AWS endpoint (the embedded one, LocalStack); unset for real AWS.",
                rich_help_panel="Transport",
            ),
        ],
    ),
    inspect.Parameter(
        "region",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option("--region", envvar="AWS_REGION", help="AWS region.", rich_help_panel="Transport"),
        ],
    ),
    inspect.Parameter(
        "request_queue",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option(
                "--request-queue",
                envvar="ASYNCMCP_REQUEST_QUEUE",
                help="Queue the server reads requests from (name or URL). [default: asyncmcp-requests]",
                rich_help_panel="Transport",
            ),
        ],
    ),
    inspect.Parameter(
        "reply_queue",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option(
                "--reply-queue",
                envvar="ASYNCMCP_REPLY_QUEUE",
                help="Queue a client reads its replies from (name or URL). [default: asyncmcp-replies]",
                rich_help_panel="Transport",
            ),
        ],
    ),
    inspect.Parameter(
        "option",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            list[str] | None,
            typer.Option(
                "--option",
                "-o",
                metavar="KEY=VALUE",
                help="Any other transport option (repeatable), e.g. -o visibility_timeout=60. "
                "Each transport's options are listed in its module docstring and the README.",
                rich_help_panel="Transport",
            ),
        ],
    ),
    inspect.Parameter(
        "webhook_secret",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            list[str] | None,
            typer.Option(
                "--webhook-secret",
                metavar="whsec_...",
                help="Standard Webhooks signing secret (repeatable): the server signs with every one, a client "
                "accepts any, so secrets can be rotated. [default: $ASYNCMCP_WEBHOOK_SECRET, space-separated; "
                "read by the webhook transports only]",
                rich_help_panel="Webhook",
                show_default=False,
            ),
        ],
    ),
    inspect.Parameter(
        "webhook_listen",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option(
                "--webhook-listen",
                metavar="HOST:PORT",
                help="Where a webhook client's receiver listens (a proxy's clients share one). "
                "[default: 127.0.0.1 on a free port]",
                rich_help_panel="Webhook",
            ),
        ],
    ),
    inspect.Parameter(
        "profile",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option(
                "--profile",
                envvar="ASYNCMCP_PROFILE",
                autocompletion=completers.profiles,
                help="Profile written by `asyncmcp provision` to fill in unset transport options "
                "(flags and environment win). [default: the last one provisioned, if any]",
                rich_help_panel="Transport",
            ),
        ],
    ),
    inspect.Parameter(
        "config",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option(
                "--config",
                metavar="PATH",
                envvar="ASYNCMCP_CONFIG",
                help="A JSON file of named servers in the desktop hosts' mcpServers format (command/args/env or "
                "url/headers); --transport NAME (serve: --upstream NAME) then picks one. [default: none]",
                rich_help_panel="Transport",
            ),
        ],
    ),
]


_CTX = "_transport_ctx"


def parse_key_values(pairs: list[str], *, what: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"{what} {pair!r} is not KEY=VALUE", ExitCode.USAGE)
        values[key.strip().replace("-", "_")] = value
    return values


def _given_on_command_line(ctx: Any, names: dict[str, Any]) -> frozenset[str] | None:
    """Which of `names` were typed as flags (not taken from the environment or left at their default)."""
    if not hasattr(ctx, "get_parameter_source"):
        return None  # called outside a command line: treat every value as asked for

    def typed(name: str) -> bool:
        source = ctx.get_parameter_source(name)
        return source is not None and source.name == "COMMANDLINE"

    return frozenset(name for name in names if typed(name))


def with_transport_options(command: Callable[..., T]) -> Callable[..., T]:
    """Add the shared transport options to a command; it receives them as `options: TransportOptions`."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "options"]
    takes_ctx = any(p.annotation is typer.Context for p in own)
    if not takes_ctx:  # to tell flags from environment variables
        own.append(inspect.Parameter(_CTX, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context))
    ctx_name = next(p.name for p in own if p.annotation is typer.Context)

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        picked = {p.name: kwargs.pop(p.name) for p in _TRANSPORT_PARAMETERS}
        ctx = kwargs.get(ctx_name) if takes_ctx else kwargs.pop(_CTX, None)
        options = TransportOptions(**picked, from_command_line=_given_on_command_line(ctx, picked))
        return command(*args, options=options, **kwargs)

    parameters = own + _TRANSPORT_PARAMETERS
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__  # so Typer reads the combined signature, not the original's
    return wrapper
