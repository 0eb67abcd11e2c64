"""Tab completion for the REPL: commands, tool and prompt names, argument names and values.

Completion never does I/O: it reads what the `Catalog` has already listed
(the REPL lists tools, prompts and resources when it starts, and again when
the server says a list changed).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from asyncmcp_cli.protocol.catalog import Catalog

TOOL_COMMANDS = ("call", "schema")
"""Commands whose first argument is a tool name."""


class ReplCompleter(Completer):
    def __init__(self, catalog: Catalog, commands: Callable[[], Mapping[str, str]]) -> None:
        """`commands()` gives the REPL's command names with their one-line help."""
        self.catalog = catalog
        self.commands = commands

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        words, current = _split(document.text_before_cursor)
        if not words:
            yield from self._first_word(current)
            return
        command, rest = words[0], words[1:]
        if command in TOOL_COMMANDS:
            if not rest:
                yield from _matching(current, self._tool_names())
            elif command == "call":
                yield from self._tool_arguments(rest[0], rest[1:], current)
        elif command == "prompt":
            if not rest:
                yield from _matching(current, (p.name for p in self.catalog.cached_prompts))
            else:
                yield from self._prompt_arguments(rest[0], rest[1:], current)
        elif command == "read" and not rest:
            yield from _matching(current, (r.uri for r in self.catalog.cached_resources))
        elif command == "help" and not rest:
            yield from _matching(current, self.commands())
        elif command in self._tool_names() and command not in self.commands():
            yield from self._tool_arguments(command, rest, current)

    # -- pieces -------------------------------------------------------------

    def _tool_names(self) -> list[str]:
        return [tool.name for tool in self.catalog.cached_tools]

    def _first_word(self, current: str) -> Iterator[Completion]:
        commands = self.commands()
        for name, help_text in commands.items():
            if name.startswith(current):
                yield Completion(name + " ", -len(current), display=name, display_meta=help_text)
        for tool in self.catalog.cached_tools:
            if tool.name.startswith(current) and tool.name not in commands:
                yield Completion(tool.name + " ", -len(current), display=tool.name, display_meta="tool")

    def _tool_arguments(self, name: str, given: list[str], current: str) -> Iterator[Completion]:
        tool = next((t for t in self.catalog.cached_tools if t.name == name), None)
        if tool is None:
            return
        schema = tool.input_schema or {}
        properties: Mapping[str, Any] = schema.get("properties") or {}
        key, sep, value = current.partition("=")
        if sep:
            yield from _values(key, value, properties.get(key) or {})
            return
        used = {word.partition("=")[0] for word in given}
        required = set(schema.get("required") or [])
        for prop in properties:
            if prop not in used and prop.startswith(current):
                meta = "required" if prop in required else "optional"
                yield Completion(f"{prop}=", -len(current), display=prop, display_meta=meta)

    def _prompt_arguments(self, name: str, given: list[str], current: str) -> Iterator[Completion]:
        prompt = next((p for p in self.catalog.cached_prompts if p.name == name), None)
        if prompt is None or "=" in current:
            return
        used = {word.partition("=")[0] for word in given}
        for argument in prompt.arguments or []:
            if argument.name not in used and argument.name.startswith(current):
                meta = "required" if argument.required else "optional"
                yield Completion(f"{argument.name}=", -len(current), display=argument.name, display_meta=meta)


def _values(key: str, typed: str, schema: Mapping[str, Any]) -> Iterator[Completion]:
    """Values worth offering after ``key=``: an enum's members, true/false for a boolean."""
    options: list[str] = []
    if isinstance(schema.get("enum"), list):
        options = [str(v) for v in schema["enum"]]
    elif schema.get("type") == "boolean":
        options = ["true", "false"]
    for option in options:
        if option.startswith(typed):
            yield Completion(option, -len(typed))


def _matching(current: str, names: Iterable[str]) -> Iterator[Completion]:
    """Whole words: completed with the space that ends them."""
    for name in names:
        if name.startswith(current):
            yield Completion(name + " ", -len(current), display=name)


def _split(text: str) -> tuple[list[str], str]:
    """The finished words before the cursor, and the word being typed (``""`` after a space)."""
    try:
        words = shlex.split(text)
    except ValueError:  # an open quote: the word being typed is quoted
        words = text.split()
    if not text or text[-1].isspace():
        return words, ""
    return words[:-1], words[-1] if words else ""
