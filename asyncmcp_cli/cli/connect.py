"""`asyncmcp connect`: an MCP client over any transport, one command at a time."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from asyncmcp_cli.cli._common import (
    EXIT_CODES_HELP,
    ExitCode,
    JsonFlag,
    LogLevel,
    TransportOptions,
    console,
    err_console,
    fail,
    print_json,
    run,
    setup_logging,
    with_transport_options,
)

connect_app = typer.Typer(
    name="connect",
    help=f"Talk to an MCP server over a transport: list and call its tools.\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(connect_app)


Era = Annotated[
    str,
    typer.Option(
        "--era",
        envvar="ASYNCMCP_ERA",
        help="Protocol era: stateless (2026-07-28, no handshake), handshake (2025-11-25 initialize), "
        "or auto (ask the server).",
        rich_help_panel="Client",
    ),
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout", envvar="ASYNCMCP_TIMEOUT", help="Seconds to wait for each answer.", rich_help_panel="Client"
    ),
]
ClientId = Annotated[
    str | None,
    typer.Option(
        "--client-id",
        envvar="ASYNCMCP_CLIENT_ID",
        help="This client's id on the channel [default: a new random id].",
        rich_help_panel="Client",
    ),
]


@connect_app.command("tools")
@with_transport_options
def list_tools(
    *,
    json_output: JsonFlag = False,
    era: Era = "stateless",
    timeout: Timeout = 60.0,
    client_id: ClientId = None,
    log_level: LogLevel = "warning",
    options: TransportOptions,
) -> None:
    """List the server's tools."""
    from asyncmcp_cli.client import open_client

    setup_logging(log_level)

    async def main() -> list[Any]:
        async with open_client(options.resolve(), era=era, client_id=client_id, timeout=timeout) as client:
            return (await client.list_tools()).tools

    tools = run(main)
    if json_output:
        print_json([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools])
        return
    table = Table("tool", "description", "arguments", title=f"{len(tools)} tools")
    for tool in tools:
        arguments = ", ".join((tool.input_schema or {}).get("properties", {}).keys())
        table.add_row(
            tool.name, (tool.description or "").strip().splitlines()[0] if tool.description else "", arguments
        )
    console.print(table)


@connect_app.command("call")
@with_transport_options
def call_tool(
    name: Annotated[str, typer.Argument(help="The tool to call.")],
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KEY=VALUE]...",
            help="Tool arguments; each value is parsed as JSON when it parses (3, true, [1,2]), else taken as text.",
        ),
    ] = None,
    *,
    args_json: Annotated[
        str | None, typer.Option("--args-json", help="All arguments as one JSON object (merged under KEY=VALUE).")
    ] = None,
    json_output: JsonFlag = False,
    era: Era = "stateless",
    timeout: Timeout = 60.0,
    client_id: ClientId = None,
    log_level: LogLevel = "warning",
    options: TransportOptions,
) -> None:
    """Call a tool and print its result. Exits 1 when the tool reports an error."""
    from asyncmcp_cli.client import open_client

    setup_logging(log_level)
    parsed = parse_arguments(arguments or [], args_json)

    async def main() -> Any:
        async with open_client(options.resolve(), era=era, client_id=client_id, timeout=timeout) as client:
            return await client.call_tool(name, parsed)

    result = run(main)
    if json_output:
        print_json(result.model_dump(mode="json", by_alias=True, exclude_none=True))
    else:
        target = err_console if result.is_error else console
        for block in result.content:
            target.print(_render_block(block), highlight=False, soft_wrap=True)
        if result.structured_content is not None and not result.content:
            console.print_json(json.dumps(result.structured_content))
    if result.is_error:
        raise typer.Exit(int(ExitCode.TOOL_ERROR))


def parse_arguments(pairs: list[str], args_json: str | None) -> dict[str, Any]:
    """`KEY=VALUE` pairs (values as JSON where they parse) over an optional JSON object."""
    parsed: dict[str, Any] = {}
    if args_json:
        try:
            loaded = json.loads(args_json)
        except json.JSONDecodeError as exc:
            raise fail(f"--args-json is not valid JSON: {exc}", ExitCode.USAGE) from None
        if not isinstance(loaded, dict):
            raise fail("--args-json must be a JSON object", ExitCode.USAGE)
        parsed.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"argument {pair!r} is not KEY=VALUE", ExitCode.USAGE)
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


def _render_block(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return block.text
    if kind in ("image", "audio"):
        return f"[{kind} {block.mime_type}, {len(block.data) * 3 // 4} bytes]"
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    return json.dumps(block.model_dump(mode="json", by_alias=True, exclude_none=True))
