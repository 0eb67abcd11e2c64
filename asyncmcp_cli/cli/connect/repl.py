"""The interactive client (`connect -i`): one connection, many requests.

prompt_toolkit reads the lines (tab completion from the `Catalog`, history in
a file across runs); Rich shows the results. A running request shows its
progress and the server's log messages as they arrive; Ctrl-C cancels it (the
server is sent the cancellation) and returns to the prompt; Ctrl-D or
``exit`` leaves. Without a terminal on stdin, lines are read plainly, so a
session can be scripted: ``printf 'call add a=1 b=2\\n' | asyncmcp connect -i``.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from mcp import Client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asyncmcp_cli.cli._common import ExitCode, describe_mcp_error, exit_code_for
from asyncmcp_cli.cli.connect import render, repl_tasks
from asyncmcp_cli.cli.connect.activity import Activity
from asyncmcp_cli.cli.connect.interrupt import Interrupted, interruptible
from asyncmcp_cli.errors import AsyncMCPError
from asyncmcp_cli.protocol.catalog import Catalog
from asyncmcp_cli.protocol.safe_text import json_view, markup

logger = logging.getLogger(__name__)

PROMPT = "mcp> "


@dataclass(frozen=True)
class Command:
    run: Callable[[list[str]], Awaitable[None]]
    usage: str
    help: str


def default_history_path() -> Path:
    """``$ASYNCMCP_HISTORY``, else ``$XDG_STATE_HOME/asyncmcp/history`` (``~/.local/state/...``)."""
    if explicit := os.environ.get("ASYNCMCP_HISTORY"):
        return Path(explicit).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "asyncmcp" / "history"


class Repl:
    """Reads commands, runs each as one request, renders the answer."""

    def __init__(
        self,
        client: Client,
        catalog: Catalog,
        activity: Activity,
        console: Console,
        *,
        history: Path | None = None,
        banner: str = "",
        client_id: str | None = None,
    ) -> None:
        self.client = client
        self.client_id = client_id
        """The client id the connection speaks as (None where the target binds none): task handles name it."""
        self.catalog = catalog
        self.activity = activity
        self.console = console
        self.history = history
        self.banner = banner
        self.raw_json = False
        self.commands: dict[str, Command] = {
            "help": Command(self._help, "help [COMMAND]", "list the commands, or explain one"),
            "tools": Command(self._tools, "tools", "list the tools (fetched again)"),
            "schema": Command(self._schema, "schema TOOL", "show a tool's arguments and schemas"),
            "call": Command(self._call, "call TOOL [KEY=VALUE]...", "call a tool (or just: TOOL [KEY=VALUE]...)"),
            "resources": Command(self._resources, "resources", "list the resources"),
            "templates": Command(self._templates, "templates", "list the resource templates"),
            "read": Command(self._read, "read URI", "read a resource"),
            "prompts": Command(self._prompts, "prompts", "list the prompts"),
            "prompt": Command(self._prompt, "prompt NAME [KEY=VALUE]...", "get a prompt"),
            "task": Command(self._task, repl_tasks.USAGE, repl_tasks.HELP),
            "ping": Command(self._ping, "ping", "check that the server answers, and how fast"),
            "loglevel": Command(self._loglevel, "loglevel LEVEL", "ask the server for log messages at LEVEL and above"),
            "raw": Command(
                self._raw, "raw METHOD ['JSON']", "send any JSON-RPC request (params quoted); print the result"
            ),
            "json": Command(self._json, "json [on|off]", "show results as the raw JSON the server sent"),
            "exit": Command(self._exit, "exit", "leave (also: quit, Ctrl-D)"),
        }
        self._done = False
        self.exit_code = 0
        """The exit code of the first command that failed (0: none did); a piped session exits with it."""

    # -- the loop -----------------------------------------------------------

    async def run(self) -> None:
        await self._list_for_completion()
        if self.banner:
            self.console.print(self.banner, highlight=False)
        read_line = self._terminal_reader() if sys.stdin.isatty() else _plain_reader()
        while not self._done:
            await self._list_for_completion()  # again, if the server said a list changed
            try:
                line = await read_line()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line, as in a shell
            except EOFError:
                break
            await self.execute(line)

    async def execute(self, line: str) -> None:
        """Run one line; every failure is reported and the REPL carries on."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            self._error(f"cannot parse the line: {exc}")
            return
        if not words:
            return
        name, args = words[0], words[1:]
        if name == "quit":
            name = "exit"
        command = self.commands.get(name)
        if command is None and name in {t.name for t in self.catalog.cached_tools}:
            command, args = self.commands["call"], words
        if command is None:
            from asyncmcp_cli.protocol.arguments import suggest

            known = list(self.commands) + [t.name for t in self.catalog.cached_tools]
            hint = suggest(name, known)
            self._error(f"unknown command {name!r}" + (f"; did you mean {hint!r}?" if hint else "; type help"))
            return
        try:
            await interruptible(lambda: command.run(args))
        except Interrupted:
            self.console.print("[yellow]cancelled[/] (the server was told)", highlight=False)
            self._failed(ExitCode.INTERRUPTED)
        except AsyncMCPError as exc:
            self._error(str(exc), exit_code_for(exc))
        except MCPError as exc:
            self._error(*describe_mcp_error(exc))
        except ValidationError as exc:
            self._error(f"the server's answer does not fit the protocol: {exc.errors()[0]['msg']}", ExitCode.PROTOCOL)
        except TimeoutError:
            self._error("timed out", ExitCode.TIMEOUT)
        except Exception as exc:  # a REPL outlives any one failed request
            logger.debug("command %r failed", line, exc_info=True)
            self._error(f"{type(exc).__name__}: {exc}", ExitCode.PROTOCOL)

    def _terminal_reader(self) -> Callable[[], Awaitable[str]]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.patch_stdout import patch_stdout

        from asyncmcp_cli.cli.connect.completion import ReplCompleter

        history: Any = InMemoryHistory()
        if self.history is not None:
            try:
                self.history.parent.mkdir(parents=True, exist_ok=True)
                history = FileHistory(str(self.history))
            except OSError as exc:
                logger.warning("history not kept: cannot use %s (%s)", self.history, exc)
        completer = ReplCompleter(self.catalog, lambda: {name: c.help for name, c in self.commands.items()})
        session: PromptSession[str] = PromptSession(history=history, completer=completer, complete_while_typing=False)

        async def read() -> str:
            with patch_stdout(raw=True):  # notifications arriving at the prompt print above it
                return await session.prompt_async(PROMPT)

        return read

    async def _list_for_completion(self) -> None:
        """List what completion needs and is not cached; a server without prompts or resources is fine."""
        missing = [
            listing
            for listing, cached in (
                (self.catalog.tools, self.catalog.has("tools")),
                (self.catalog.prompts, self.catalog.has("prompts")),
                (self.catalog.resources, self.catalog.has("resources")),
            )
            if not cached
        ]
        if not missing:
            return
        with self.activity.running("listing what the server offers"):
            for listing in missing:
                try:
                    await listing()
                except (MCPError, ValidationError) as exc:
                    logger.debug("not listed: %s", exc)

    # -- commands -----------------------------------------------------------

    async def _help(self, args: list[str]) -> None:
        if args and args[0] in self.commands:
            command = self.commands[args[0]]
            self.console.print(f"[bold]{escape(command.usage)}[/]  {escape(command.help)}", highlight=False)
            return
        table = Table("command", "what it does", box=None, pad_edge=False)
        for command in self.commands.values():
            table.add_row(escape(command.usage), escape(command.help))
        self.console.print(table)
        self.console.print(
            "[dim]Tab completes commands, tools and argument names · Ctrl-C cancels a running call · "
            "values are converted to the types the tool's schema declares[/]",
            highlight=False,
        )

    async def _tools(self, args: list[str]) -> None:
        with self.activity.running("listing tools"):
            tools = await self.catalog.tools(refresh=True)
        self._show(tools, render.tools_table)

    async def _schema(self, args: list[str]) -> None:
        name = _one(args, "schema TOOL")
        tool = await self.catalog.tool(name)
        self._show(tool, render.tool_schema)

    async def _call(self, args: list[str]) -> None:
        if not args:
            raise _usage("call TOOL [KEY=VALUE]...")
        name, pairs = args[0], args[1:]
        arguments = await self.catalog.tool_arguments(name, pairs)
        with self.activity.running(f"calling {name}"):
            result = await self.client.call_tool(name, arguments, progress_callback=self.activity.progress)
        if self.raw_json:
            self.console.print(json_view(render.as_json(result)), soft_wrap=True)
        else:
            render.print_call_result(result, self.console, self.console)
        if result.is_error:
            self.console.print("[red](the tool reported an error)[/]", highlight=False)
            self._failed(ExitCode.TOOL_ERROR)

    async def _resources(self, args: list[str]) -> None:
        with self.activity.running("listing resources"):
            resources = await self.catalog.resources(refresh=True)
        self._show(resources, render.resources_table)

    async def _templates(self, args: list[str]) -> None:
        with self.activity.running("listing resource templates"):
            templates = await self.catalog.templates(refresh=True)
        self._show(templates, render.templates_table)

    async def _read(self, args: list[str]) -> None:
        uri = _one(args, "read URI")
        with self.activity.running(f"reading {uri}"):
            result = await self.client.read_resource(uri)
        if self.raw_json:
            self.console.print(json_view(render.as_json(result)), soft_wrap=True)
        else:
            render.print_read_result(result, self.console)

    async def _prompts(self, args: list[str]) -> None:
        with self.activity.running("listing prompts"):
            prompts = await self.catalog.prompts(refresh=True)
        self._show(prompts, render.prompts_table)

    async def _prompt(self, args: list[str]) -> None:
        if not args:
            raise _usage("prompt NAME [KEY=VALUE]...")
        name = args[0]
        values = await self.catalog.prompt_arguments(name, args[1:])
        with self.activity.running(f"getting prompt {name}"):
            result = await self.client.get_prompt(name, values)
        if self.raw_json:
            self.console.print(json_view(render.as_json(result)), soft_wrap=True)
        else:
            render.print_prompt_result(result, self.console)

    async def _task(self, args: list[str]) -> None:
        await repl_tasks.run_task_command(self, args)

    async def _ping(self, args: list[str]) -> None:
        from asyncmcp_cli.cli.connect.protocol import round_trip_ms

        with self.activity.running("ping"):
            elapsed_ms = await round_trip_ms(self.client)
        self.console.print(f"pong in {elapsed_ms:.0f} ms", highlight=False)

    async def _loglevel(self, args: list[str]) -> None:
        from asyncmcp_cli.cli.connect.server_log import set_server_log_level

        level = _one(args, "loglevel LEVEL")
        with self.activity.running(f"setting the server's log level to {level}"):
            await set_server_log_level(self.client, level, explicit=True)
        self.console.print(f"server log level: {level.lower()}", highlight=False)

    async def _raw(self, args: list[str]) -> None:
        from asyncmcp_cli.cli.connect.protocol import send_raw
        from asyncmcp_cli.protocol.arguments import parse_json_object

        if len(args) not in (1, 2):
            raise _usage("raw METHOD ['JSON'] (the params as one quoted word)")
        params = parse_json_object(args[1], what="the params") if len(args) == 2 else None
        with self.activity.running(args[0]):
            result = await send_raw(self.client, args[0], params)
        self.console.print(json_view(result), soft_wrap=True)

    async def _json(self, args: list[str]) -> None:
        self.raw_json = (args[0].lower() in ("on", "true", "yes", "1")) if args else not self.raw_json
        self.console.print(f"raw JSON results {'on' if self.raw_json else 'off'}", highlight=False)

    async def _exit(self, args: list[str]) -> None:
        self._done = True

    # -- output -------------------------------------------------------------

    def _show(self, value: Any, as_rich: Callable[[Any], Any]) -> None:
        if self.raw_json:
            self.console.print(json_view(render.as_json(value)), soft_wrap=True)
        else:
            self.console.print(as_rich(value))

    def _error(self, message: str, code: int = 2) -> None:
        self.console.print(f"[bold red]error:[/] {markup(message)}", highlight=False, soft_wrap=True)
        self._failed(code)

    def _failed(self, code: int) -> None:
        self.exit_code = self.exit_code or int(code)


def _one(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise _usage(usage)
    return args[0]


def _usage(usage: str) -> AsyncMCPError:
    from asyncmcp_cli.errors import UsageError

    return UsageError(f"usage: {usage}")


def _plain_reader() -> Callable[[], Awaitable[str]]:
    """Lines from a non-terminal stdin (a pipe or a file): no prompt, no completion."""

    async def read() -> str:
        line = await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
        if not line:
            raise EOFError
        return line

    return read
