"""The options every `connect` command shares, bundled into one `ClientOptions`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from asyncmcp_cli.cli._common import DEFAULT_CONNECT_TIMEOUT, TransportOptions, parse_key_values, seconds

if TYPE_CHECKING:
    from asyncmcp_cli.targets import Target


T = TypeVar("T")

PANEL = "Client"


@dataclass
class ClientOptions:
    """How to reach the server and how to talk to it."""

    transport: TransportOptions
    stdio: str | None
    env: list[str] | None
    header: list[str] | None
    era: str | None
    timeout: float
    connect_timeout: float
    client_id: str | None
    server_log: str
    quiet: bool
    log_level: str

    def target(self) -> Target:
        """``--stdio`` wins; an ``http(s)://`` ``--transport`` is a streamable HTTP server; a name from
        ``--config`` is the server it describes; else the registry."""
        from asyncmcp_cli.cli._upstream import parse_headers
        from asyncmcp_cli.errors import UsageError
        from asyncmcp_cli.targets import Target, is_http_url

        env = parse_key_values(self.env or [], what="--env")
        headers = parse_headers(self.header, what="--header")
        named = None if self.stdio else self.transport.named_server()
        if self.stdio or (named is not None and named.command is not None):
            if headers:
                raise UsageError("--header is for HTTP servers (an http(s):// URL, or http+webhook); not for stdio")
            if self.stdio:
                return Target.for_stdio(self.stdio, env=env)
            return Target.for_command([named.command, *named.args], env=dict(named.env) | env)
        if named is not None and named.is_http:
            return Target.for_url(str(named.url), headers=dict(named.headers) | headers)
        if is_http_url(self.transport.transport):
            return Target.for_url(self.transport.transport, headers=headers)
        if named is not None:
            headers = dict(named.headers) | headers
        if headers:
            name = self.transport.transport_ref().split("://", 1)[0]
            if name != "http+webhook":
                raise UsageError(f"--header is for HTTP servers (an http(s):// URL, or http+webhook); not for {name}")
            return Target.for_transport(self.transport.resolve(headers=headers))
        return Target.for_transport(self.transport.resolve())

    async def check_first_contact(self, target: Target) -> None:
        """For a one-shot command: fail within `connect_timeout` if the queue transport's endpoint does not answer.

        Without this a first send to a dead endpoint is retried as an outage (a minute).
        Other targets fail fast on their own (a stdio command that cannot start, an
        HTTP connection refused, webhook delivery's few retries).
        """
        from asyncmcp_cli.aws import check_reachable
        from asyncmcp_cli.transports.queue_options import QueueTransportOptions

        options = getattr(target.transport, "options", None)
        if isinstance(options, QueueTransportOptions):
            await check_reachable(options.aws, within=self.connect_timeout)

    def client_kwargs(self) -> dict[str, Any]:
        """`open_target` keywords (without the callbacks, which belong to the display)."""
        kwargs: dict[str, Any] = {"era": self.era, "client_id": self.client_id, "timeout": self.timeout}
        if self.server_log != "off":
            kwargs["log_level"] = self.server_log
        return kwargs

    async def ask_for_server_log(self, mcp: Any) -> None:
        """On a handshake-era connection, send ``logging/setLevel`` for ``--server-log``.

        A 2026-07-28 client asks on every request (``_meta``, see `client_kwargs`);
        a 2025-11-25 server sends log messages only once told the level.
        """
        from asyncmcp_cli.cli.connect.server_log import set_server_log_level

        if self.server_log != "off":
            await set_server_log_level(mcp, self.server_log, explicit=False)


def _option(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


_CLIENT_PARAMETERS = [
    _option(
        "header",
        None,
        Annotated[
            list[str] | None,
            typer.Option(
                "--header",
                "-H",
                metavar="'NAME: VALUE'",
                help="HTTP header sent with every request to an HTTP server (an http(s):// --transport, or "
                "http+webhook; repeatable), e.g. -H 'Authorization: Bearer ...'.",
                rich_help_panel="Transport",
            ),
        ],
    ),
    _option(
        "stdio",
        None,
        Annotated[
            str | None,
            typer.Option(
                "--stdio",
                metavar="COMMAND",
                help="Talk to an ordinary MCP server started as COMMAND over stdio (quoted, e.g. "
                "--stdio 'uvx mcp-server-time'). For a streamable HTTP server, pass its URL as --transport.",
                rich_help_panel="Transport",
            ),
        ],
    ),
    _option(
        "env",
        None,
        Annotated[
            list[str] | None,
            typer.Option(
                "--env",
                metavar="KEY=VALUE",
                help="Set an environment variable for the --stdio server (repeatable); it also inherits this shell's.",
                rich_help_panel="Transport",
            ),
        ],
    ),
    _option(
        "era",
        None,
        Annotated[
            str | None,
            typer.Option(
                "--era",
                envvar="ASYNCMCP_ERA",
                help="Protocol era: stateless (2026-07-28, no handshake), handshake (2025-11-25 initialize), or "
                "auto (ask the server). Default: stateless over async transports, auto over stdio and HTTP.",
                rich_help_panel=PANEL,
            ),
        ],
    ),
    _option(
        "timeout",
        60.0,
        Annotated[
            float,
            typer.Option(
                "--timeout",
                envvar="ASYNCMCP_TIMEOUT",
                callback=seconds,
                help="Seconds to wait for each answer.",
                rich_help_panel=PANEL,
            ),
        ],
    ),
    _option(
        "connect_timeout",
        DEFAULT_CONNECT_TIMEOUT,
        Annotated[
            float,
            typer.Option(
                "--connect-timeout",
                envvar="ASYNCMCP_CONNECT_TIMEOUT",
                callback=seconds,
                help="Seconds a one-shot command waits for the AWS endpoint to answer its first call before it "
                "exits 4. Once it has answered, a later outage is ridden out (sends retried for a minute).",
                rich_help_panel=PANEL,
            ),
        ],
    ),
    _option(
        "client_id",
        None,
        Annotated[
            str | None,
            typer.Option(
                "--client-id",
                envvar="ASYNCMCP_CLIENT_ID",
                help="This client's id on the channel (default: a new random id; over sns+sqs, under the profile's "
                "client_id_prefix, which an explicit id must also start with).",
                rich_help_panel=PANEL,
            ),
        ],
    ),
    _option(
        "server_log",
        "info",
        Annotated[
            str,
            typer.Option(
                "--server-log",
                metavar="LEVEL",
                envvar="ASYNCMCP_SERVER_LOG",
                help="Ask the server for its log messages at this level and above (debug, info, notice, warning, "
                "error, critical, alert, emergency, or off); they are shown as they arrive. A handshake-era "
                "server is sent logging/setLevel.",
                rich_help_panel=PANEL,
            ),
        ],
    ),
    _option(
        "quiet",
        False,
        Annotated[
            bool,
            typer.Option("--quiet", "-q", help="Do not show progress and server messages.", rich_help_panel=PANEL),
        ],
    ),
    _option(
        "log_level",
        "warning",
        Annotated[
            str,
            typer.Option(
                "--log-level",
                envvar="ASYNCMCP_LOG_LEVEL",
                help="This program's own log level: debug, info, warning, error.",
                case_sensitive=False,
                rich_help_panel=PANEL,
            ),
        ],
    ),
]

_CLIENT_NAMES = [p.name for p in _CLIENT_PARAMETERS]


def with_client_options(command: Callable[..., T]) -> Callable[..., T]:
    """Give a command the client options as `client: ClientOptions`.

    Use under `with_transport_options`, which supplies the `options` this
    wrapper folds into `ClientOptions.transport`.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "client"]

    @functools.wraps(command)
    def wrapper(*args: Any, options: TransportOptions, **kwargs: Any) -> T:
        picked = {name: kwargs.pop(name) for name in _CLIENT_NAMES}
        return command(*args, client=ClientOptions(transport=options, **picked), **kwargs)

    transport_slot = _option("options", inspect.Parameter.empty, TransportOptions)
    parameters = own + _CLIENT_PARAMETERS + [transport_slot]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__  # so the next decorator reads this signature, not the original's
    return wrapper
