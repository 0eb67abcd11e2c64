"""What a connected server offers: its tools, prompts, resources and templates, listed once and kept.

Both the one-shot `connect` commands and the interactive REPL ask the same
questions (is there a tool by this name? what are its arguments?), and over a
queue every listing is a round trip, so the answers are cached per connection.
The REPL reads the cache synchronously for tab completion.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import mcp_types as types
from mcp import Client

from asyncmcp_cli.protocol.arguments import InvalidArgumentsError, UnknownNameError, build_arguments, split_pairs

T = TypeVar("T")

MAX_PAGES = 100
"""Stop following `nextCursor` after this many pages: a server that never ends its listing cannot hang us."""


class Catalog:
    """Cached listings for one client connection."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._tools: list[types.Tool] | None = None
        self._prompts: list[types.Prompt] | None = None
        self._resources: list[types.Resource] | None = None
        self._templates: list[types.ResourceTemplate] | None = None

    # -- listings -----------------------------------------------------------

    async def tools(self, *, refresh: bool = False) -> list[types.Tool]:
        if self._tools is None or refresh:
            self._tools = await _all_pages(self.client.list_tools, lambda r: r.tools, refresh)
        return self._tools

    async def prompts(self, *, refresh: bool = False) -> list[types.Prompt]:
        if self._prompts is None or refresh:
            self._prompts = await _all_pages(self.client.list_prompts, lambda r: r.prompts, refresh)
        return self._prompts

    async def resources(self, *, refresh: bool = False) -> list[types.Resource]:
        if self._resources is None or refresh:
            self._resources = await _all_pages(self.client.list_resources, lambda r: r.resources, refresh)
        return self._resources

    async def templates(self, *, refresh: bool = False) -> list[types.ResourceTemplate]:
        if self._templates is None or refresh:
            self._templates = await _all_pages(
                self.client.list_resource_templates, lambda r: r.resource_templates, refresh
            )
        return self._templates

    def has(self, kind: str) -> bool:
        """Whether a listing ("tools", "prompts", "resources", "templates") is cached."""
        return getattr(self, f"_{kind}") is not None

    def forget(self, *kinds: str) -> None:
        """Drop cached listings (all, or some of "tools", "prompts", "resources", "templates")."""
        for kind in kinds or ("tools", "prompts", "resources", "templates"):
            setattr(self, f"_{kind}", None)

    # -- what is cached (for completion; never does I/O) --------------------

    @property
    def cached_tools(self) -> list[types.Tool]:
        return list(self._tools or [])

    @property
    def cached_prompts(self) -> list[types.Prompt]:
        return list(self._prompts or [])

    @property
    def cached_resources(self) -> list[types.Resource]:
        return list(self._resources or [])

    # -- lookups ------------------------------------------------------------

    async def tool(self, name: str) -> types.Tool:
        tools = await self.tools()
        for tool in tools:
            if tool.name == name:
                return tool
        raise UnknownNameError("tool", name, [t.name for t in tools])

    async def prompt(self, name: str) -> types.Prompt:
        prompts = await self.prompts()
        for prompt in prompts:
            if prompt.name == name:
                return prompt
        raise UnknownNameError("prompt", name, [p.name for p in prompts])

    async def tool_arguments(self, name: str, pairs: Sequence[str], args_json: str | None = None) -> dict[str, Any]:
        """Arguments for `name`, coerced and validated by its input schema (raises `UsageError`)."""
        tool = await self.tool(name)
        return build_arguments(pairs, args_json=args_json, schema=tool.input_schema, name=name)

    async def prompt_arguments(self, name: str, pairs: Sequence[str]) -> dict[str, str]:
        """Prompt arguments are strings; check the names and that required ones are there."""
        prompt = await self.prompt(name)
        return prompt_arguments(prompt, pairs)


def prompt_arguments(prompt: types.Prompt, pairs: Sequence[str]) -> dict[str, str]:
    declared = {argument.name: bool(argument.required) for argument in prompt.arguments or []}
    values: dict[str, str] = {}
    problems: list[str] = []
    for key, value in split_pairs(pairs):
        if key not in declared:
            problems.append(str(UnknownNameError("argument", key, declared)))
            continue
        values[key] = value
    problems += [
        f"missing required argument {name!r}" for name, required in declared.items() if required and name not in values
    ]
    if problems:
        raise InvalidArgumentsError(problems, name=prompt.name)
    return values


async def _all_pages(
    fetch: Callable[..., Awaitable[Any]],
    items: Callable[[Any], Sequence[T]],
    refresh: bool,
) -> list[T]:
    """Every item of a paginated listing (`refresh` bypasses the SDK's response cache)."""
    collected: list[T] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await fetch(cursor=cursor, cache_mode="refresh" if refresh else "use")
        collected.extend(items(page))
        cursor = page.next_cursor
        if not cursor:
            break
    return collected
