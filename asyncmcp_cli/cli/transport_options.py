"""The options that pick and configure a transport, shared by serve, connect, proxy and tail."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

from asyncmcp_cli.cli import completers
from asyncmcp_cli.cli.common_options import valid_endpoint_url
from asyncmcp_cli.cli.failures import ExitCode, fail
from asyncmcp_cli.transports.names import BUILTIN as BUILTIN_TRANSPORTS

T = TypeVar("T")


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
