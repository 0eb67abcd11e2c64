"""The top-level commands, each loaded only when it is the one being run.

Building every command (importing its module, turning its signature into
options) costs more than most commands' own start. So the root group knows
the commands by name and one-line help only (`COMMANDS`), and imports and
builds a command when Click asks for it by name: `asyncmcp connect ...` loads
the connect commands and nothing else. Listing the commands (the root's
``--help``, Tab after ``asyncmcp``) uses the one-line help here, so it loads
none; a test checks each line against the command's own docstring.

Typer (0.2x) also converts every option's value with a pydantic TypeAdapter,
built on first use, and pydantic alone costs more than a whole ``--help``.
`defer_coercion` keeps that from happening for values that need no
conversion: an absent value (None) and any value while Click only parses to
complete a word (Tab completion reads the words, it runs nothing).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

HELP_OPTION_NAMES = ["-h", "--help"]


class Entry(NamedTuple):
    module: str
    """The module under `asyncmcp_cli.cli` whose ``register(app)`` adds the command."""
    summary: str
    """The first paragraph of the command's help, as listed by ``asyncmcp --help``."""


COMMANDS: dict[str, Entry] = {
    "serve": Entry("serve", "Serve an MCP server over a transport until Ctrl-C or SIGTERM."),
    "proxy": Entry("proxy", "Proxy ordinary MCP clients to a server behind an asynchronous transport."),
    "local": Entry("local", "Run a local AWS endpoint (moto: SQS, SNS, S3) until Ctrl-C. No AWS account needed."),
    "demo": Entry(
        "quickstart", "Start a local AWS endpoint, serve the demo MCP server over SQS, call a tool, print the result."
    ),
    "bench": Entry(
        "bench", "Measure the SQS transport where you point it: latency against the raw floor, throughput, cost."
    ),
    "provision": Entry(
        "provision",
        "Create the queues, topics, subscriptions, dead-letter queues (and bucket) the transports need.",
    ),
    "tail": Entry("tail", "Watch the MCP messages on queues: time, kind, method, id, client, size, receive count."),
    "connect": Entry(
        "connect",
        "An MCP client over any transport, and against ordinary MCP servers (--stdio COMMAND, or an http(s) URL "
        "as --transport).",
    ),
}


class _Deferred:
    """Stands in for Typer's runtime converter of one parameter until a value really needs converting."""

    def __init__(self, build: Any) -> None:
        self.build = build

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # what Typer's converters return for None, without building one
            return () if param.multiple or param.nargs == -1 else None
        if ctx.resilient_parsing:  # completing a word: the value is only looked at, never used
            return value
        param._runtime_param = None
        return self.build(param).coerce(value, param=param, ctx=ctx)


def defer_coercion() -> None:
    """Build Typer's pydantic-backed value converters only for values that need converting (see above).

    Typer builds a parameter's converter in ``_TyperParameter.get_runtime_param``;
    if a Typer release renames it, this does nothing and Typer works as shipped
    (the test of what ``--help`` imports then says so).
    """
    from typer import core

    original = getattr(core._TyperParameter, "get_runtime_param", None)
    if original is None or getattr(original, "deferred", False):
        return

    def get_runtime_param(self: Any) -> Any:
        if getattr(self, "_runtime_param", None) is None:
            self._runtime_param = _Deferred(original)
        return self._runtime_param

    get_runtime_param.deferred = True  # type: ignore[attr-defined]
    core._TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]


class LazyGroup(TyperGroup):
    """A Typer group whose commands are imported and built on first use (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._built: dict[str, Any] = {}
        self._listing = False
        _untyped_flags(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        """Click's help flag, defaulting to False rather than None: a bool needs no converter (see above)."""
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        _untyped_flags([option])
        return option

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if self._listing and cmd_name not in self._built:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].summary, callback=None)
        return self.build(cmd_name)

    def build(self, name: str) -> Any:
        """The real command `name`: its module imported, its signature turned into a Click command."""
        if name not in self._built:
            module = importlib.import_module(f"asyncmcp_cli.cli.{COMMANDS[name].module}")
            holder = typer.Typer(rich_markup_mode="rich")
            module.register(holder)
            command = typer.main.get_group(holder).commands[name]
            _polish_help(command)
            self._built[name] = command
        return self._built[name]

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        """Answer a completion request with Typer's shell classes (the scripts in completions/ expect them).

        Typer registers them when it adds its own --install-completion option, which
        the root declares itself instead (see `asyncmcp_cli.cli`).
        """
        variable = complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        if os.environ.get(variable):
            from typer.completion import completion_init

            completion_init()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._listing_only():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        with self._listing_only():
            return super().shell_complete(ctx, incomplete)

    @contextmanager
    def _listing_only(self) -> Iterator[None]:
        """While listing, `get_command` answers with the one-line help instead of building the command."""
        self._listing = True
        try:
            yield
        finally:
            self._listing = False


def _polish_help(command: Any) -> None:
    """Help without a ``<bool>`` type beside every flag (a flag takes no value), here and in every subcommand."""
    from typer._click import Context

    _untyped_flags(command.params)
    _untyped_flags([command.get_help_option(Context(command, help_option_names=HELP_OPTION_NAMES))])
    for sub in getattr(command, "commands", {}).values():
        _polish_help(sub)


def _untyped_flags(params: list[Any]) -> None:
    for param in params:
        if param is not None and getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # Typer shows a parameter's metavar, when set, instead of its type
