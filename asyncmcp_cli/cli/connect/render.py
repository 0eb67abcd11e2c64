"""How `connect` shows what a server returns: tables for listings, content blocks for results.

Text is printed as text (so ``connect call add a=2 b=3`` prints ``5.0`` and
nothing else, fit for a shell pipeline); text that is a JSON document is
highlighted on a terminal; images and audio are noted with their type and
size, never dumped. ``--json`` output is the SDK model, as the server sent it.

Everything here comes from the server, so every string goes through
`asyncmcp_cli.protocol.safe_text` (never plain `Text` or markup): control characters
are shown escaped and Rich markup in it is not interpreted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import mcp_types as types
from pydantic import BaseModel
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from asyncmcp_cli.cli._common import counted
from asyncmcp_cli.protocol.arguments import describe_type
from asyncmcp_cli.protocol.safe_text import json_view, printable
from asyncmcp_cli.protocol.safe_text import text as safe

OPTIONAL_CAPTION = "? optional"
"""Tools and prompts mark their optional arguments alike: ``reason?``."""


def as_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> Any:
    """A model (or list of models) as the JSON the server sent."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, dict):
        return value
    return [as_json(item) for item in value]


# -- listings -----------------------------------------------------------------


def tools_table(tools: Sequence[types.Tool]) -> Table:
    table = Table("tool", "description", "arguments", "async", title=counted(len(tools), "tool"), title_justify="left")
    for tool in tools:
        table.add_row(
            safe(tool.name, style="bold"),
            _first_line(tool.description),
            safe(_argument_summary(tool.input_schema)),
            _task_support(tool),
        )
    if any(name.endswith("?") for tool in tools for name in _argument_summary(tool.input_schema).split(", ")):
        table.caption = OPTIONAL_CAPTION
    return table


def resources_table(resources: Sequence[types.Resource]) -> Table:
    table = Table("uri", "name", "type", "description", title=counted(len(resources), "resource"), title_justify="left")
    for resource in resources:
        table.add_row(
            safe(resource.uri, style="bold"),
            safe(resource.title or resource.name),
            safe(resource.mime_type or ""),
            _first_line(resource.description),
        )
    return table


def templates_table(templates: Sequence[types.ResourceTemplate]) -> Table:
    table = Table(
        "uri template",
        "name",
        "type",
        "description",
        title=counted(len(templates), "resource template"),
        title_justify="left",
    )
    for template in templates:
        table.add_row(
            safe(template.uri_template, style="bold"),
            safe(template.title or template.name),
            safe(template.mime_type or ""),
            _first_line(template.description),
        )
    return table


def prompts_table(prompts: Sequence[types.Prompt]) -> Table:
    table = Table("prompt", "description", "arguments", title=counted(len(prompts), "prompt"), title_justify="left")
    for prompt in prompts:
        arguments = ", ".join(a.name + ("" if a.required else "?") for a in prompt.arguments or [])
        table.add_row(safe(prompt.name, style="bold"), _first_line(prompt.description), safe(arguments))
    if any(not a.required for p in prompts for a in p.arguments or []):
        table.caption = OPTIONAL_CAPTION
    return table


def tool_schema(tool: types.Tool) -> RenderableType:
    """One tool in full: description, each argument with its type, and the raw input schema."""
    schema = tool.input_schema or {}
    required = set(schema.get("required") or [])
    arguments = Table("argument", "type", "", "description", box=None, pad_edge=False)
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        default = f"default {json.dumps(prop['default'])}" if "default" in prop else ""
        arguments.add_row(
            safe(name, style="bold"),
            safe(describe_type(prop, schema)),
            "required" if name in required else safe(default),
            _first_line(prop.get("description")),
        )
    parts: list[RenderableType] = []
    if tool.description:
        parts.append(safe(tool.description.strip(), multiline=True))
    parts.append(arguments if schema.get("properties") else Text("no arguments", style="dim"))
    if support := _task_support(tool):
        parts.append(Text(f"task support: {support}", style="dim"))
    # not expanded: a panel as wide as a non-terminal console (in effect unlimited) would be all padding
    parts.append(Panel(json_view(schema), title="input schema", title_align="left", border_style="dim", expand=False))
    if tool.output_schema:
        output = json_view(tool.output_schema)
        parts.append(Panel(output, title="output schema", title_align="left", border_style="dim", expand=False))
    return Panel(Group(*parts), title=safe(tool.title or tool.name, style="bold"), title_align="left", expand=False)


# -- results ------------------------------------------------------------------


def print_call_result(result: types.CallToolResult, console: Console, err_console: Console) -> None:
    """A tool's content blocks; an error result goes to `err_console`."""
    target = err_console if result.is_error else console
    for block in result.content:
        target.print(content_block(block, target), soft_wrap=True)
    if not result.content and result.structured_content is not None:
        console.print(_json_or_text(json.dumps(result.structured_content), console), soft_wrap=True)


def print_read_result(result: types.ReadResourceResult, console: Console) -> None:
    many = len(result.contents) > 1
    for contents in result.contents:
        if many:
            console.print(safe(f"── {contents.uri} ({contents.mime_type or 'unknown type'})", style="dim"))
        if isinstance(contents, types.TextResourceContents):
            console.print(_json_or_text(contents.text, console), soft_wrap=True)
        else:
            console.print(_binary_note("blob", contents.mime_type, getattr(contents, "blob", "")), soft_wrap=True)


def print_prompt_result(result: types.GetPromptResult, console: Console) -> None:
    if result.description and console.is_terminal:
        console.print(safe(result.description, style="dim", multiline=True))
    for message in result.messages:
        console.print(Text(f"{message.role}:", style="bold magenta" if message.role == "user" else "bold green"))
        console.print(content_block(message.content, console), soft_wrap=True)


def content_block(block: Any, console: Console) -> RenderableType:
    """One content block: text as text (JSON highlighted on a terminal), media and links as a note."""
    kind = getattr(block, "type", "")
    if kind == "text":
        return _json_or_text(block.text, console)
    if kind in ("image", "audio"):
        return _binary_note(kind, block.mime_type, block.data)
    if kind == "resource_link":
        mime = f", {block.mime_type}" if block.mime_type else ""
        return safe(f"[resource link {block.uri}{mime}]", style="cyan")
    if kind == "resource":
        inner = block.resource
        if isinstance(inner, types.TextResourceContents):
            header = safe(f"[resource {inner.uri}]", style="cyan")
            return Group(header, _json_or_text(inner.text, console))
        return _binary_note(f"resource {inner.uri}", inner.mime_type, getattr(inner, "blob", ""))
    return _json_or_text(json.dumps(as_json(block)), console)


def error_line(error: types.ErrorData) -> str:
    """The error as one printable line (plain text: escape it before putting it into markup)."""
    data = f" ({json.dumps(error.data)})" if error.data not in (None, "", {}) else ""
    return printable(f"server answered with an error {error.code}: {error.message}{data}")


# -- helpers ------------------------------------------------------------------


def _json_or_text(text: str, console: Console) -> RenderableType:
    stripped = text.strip()
    if console.is_terminal and stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except ValueError:
            pass
        else:
            return json_view(data)
    return safe(text, multiline=True)


def _binary_note(kind: str, mime_type: str | None, data: str) -> Text:
    return safe(f"[{kind} {mime_type or 'unknown type'}, {_human_bytes(_decoded_size(data))}]", style="cyan")


def _decoded_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (ValueError, TypeError):
        return len(data) * 3 // 4


def _human_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _first_line(text: str | None) -> Text:
    return safe(text.strip().splitlines()[0]) if text and text.strip() else Text()


def _argument_summary(schema: dict[str, Any] | None) -> str:
    schema = schema or {}
    required = set(schema.get("required") or [])
    return ", ".join(
        name + ("" if name in required else "?") for name in (schema.get("properties") or {}) if isinstance(name, str)
    )


def _task_support(tool: types.Tool) -> str:
    """Whether the tool can answer asynchronously as a task (the 2025-11-25 ``execution.taskSupport``)."""
    execution = getattr(tool, "execution", None)
    support = getattr(execution, "task_support", None)
    return support if support in ("optional", "required") else ""
