"""One-shot `connect` commands: list and describe what a server offers, call a tool, read, get a prompt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from asyncmcp_cli.cli import completers
from asyncmcp_cli.cli._common import (
    ExitCode,
    JsonFlag,
    console,
    err_console,
    fail,
    print_json,
    run,
    setup_logging,
    with_transport_options,
)
from asyncmcp_cli.cli.connect.app import connect_app
from asyncmcp_cli.cli.connect.options import ClientOptions, with_client_options
from asyncmcp_cli.cli.connect.words import check_words

if TYPE_CHECKING:  # the SDK and Rich load only when a command runs, so `--help` stays quick
    from mcp import Client

    from asyncmcp_cli.cli.connect.activity import Activity
    from asyncmcp_cli.protocol.catalog import Catalog

T = TypeVar("T")

Body = Callable[["Client", "Catalog", "Activity"], Awaitable[T]]

Pairs = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="KEY=VALUE",
        help="Arguments. Values are converted to the types the tool's input schema declares "
        "(count=3, flag=yes, tags=a,b or tags=a tags=b, point='{\"x\": 1}').",
        show_default=False,
    ),
]
ArgsJson = Annotated[
    str | None,
    typer.Option("--args-json", help="All arguments as one JSON object; KEY=VALUE words override its keys."),
]
NoValidate = Annotated[
    bool,
    typer.Option(
        "--no-validate",
        help="Send the arguments as typed (values parsed as JSON where they parse) without fetching the "
        "tool's schema first.",
    ),
]


def run_with_client(client: ClientOptions, body: Body[T], *, client_options: dict[str, Any] | None = None) -> T:
    """Connect as `client` says, run `body`, turn failures into one line and an exit code.

    `client_options` go to `mcp.Client` as well (a command's own callbacks).

    Ctrl-C cancels the request that is running (the server is told) and exits 130.
    """
    from pydantic import ValidationError

    from asyncmcp_cli.cli.connect.activity import Activity
    from asyncmcp_cli.cli.connect.cached_call import RememberingCatalog, listing_cache_for
    from asyncmcp_cli.cli.connect.interrupt import Interrupted, interruptible
    from asyncmcp_cli.targets import open_target

    setup_logging(client.log_level)
    activity = Activity(err_console, quiet=client.quiet)

    async def main() -> T:
        target = client.target()
        listings = listing_cache_for(target.describe())  # tool listings kept between runs, per server
        await client.check_first_contact(target)
        options = client.client_kwargs() | activity.client_callbacks() | {"cache": listings.config()}
        options |= client_options or {}
        async with open_target(target, **options) as mcp:
            await client.ask_for_server_log(mcp)
            return await interruptible(lambda: body(mcp, RememberingCatalog(mcp, listings), activity))

    try:
        return run(main)
    except Interrupted:
        raise fail("cancelled", ExitCode.INTERRUPTED) from None
    except ValidationError as exc:
        raise fail(
            f"the server's answer does not fit the protocol: {exc.errors()[0]['msg']}", ExitCode.PROTOCOL
        ) from None


def _print_listing(client: ClientOptions, kind: str, what: str, *, json_output: bool) -> None:
    """Fetch one of the server's listings (tools, resources, templates, prompts) and print it."""

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> Any:
        with activity.running(f"listing {what}"):  # from the server, never the cache (which it refreshes)
            return await getattr(catalog, kind)(refresh=True)

    items = run_with_client(client, body)
    from asyncmcp_cli.cli.connect import render

    if json_output:
        print_json(render.as_json(items))
    else:
        console.print(getattr(render, f"{kind}_table")(items))


@connect_app.command("tools")
@with_transport_options
@with_client_options
def list_tools(*, json_output: JsonFlag = False, client: ClientOptions) -> None:
    """List the server's tools: name, description, arguments (reason? = optional), task support."""

    _print_listing(client, "tools", "tools", json_output=json_output)


@connect_app.command("schema")
@with_transport_options
@with_client_options
def show_schema(
    name: Annotated[str, typer.Argument(help="The tool to describe.", autocompletion=completers.tools)],
    *,
    json_output: JsonFlag = False,
    client: ClientOptions,
) -> None:
    """Show one tool in full: its arguments with their types, and its input and output schemas."""

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> Any:
        with activity.running("listing tools"):
            await catalog.tools(refresh=True)  # from the server, never the cache (which it refreshes)
            return await catalog.tool(name)

    tool = run_with_client(client, body)
    from asyncmcp_cli.cli.connect import render

    if json_output:
        print_json(render.as_json(tool))
    else:
        console.print(render.tool_schema(tool))


@connect_app.command("call")
@with_transport_options
@with_client_options
def call_tool(
    name: Annotated[str, typer.Argument(help="The tool to call.", autocompletion=completers.tools)],
    arguments: Pairs = None,
    *,
    args_json: ArgsJson = None,
    no_validate: NoValidate = False,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="Send the request and exit at once, printing a receipt; `connect collect RECEIPT` prints the "
            "answer later, from any machine that reaches the reply queue (queue transports only; implies "
            "--no-validate, as the server need not be running yet).",
        ),
    ] = False,
    keep_for: Annotated[
        float,
        typer.Option(
            "--keep-for",
            metavar="SECONDS",
            min=1,
            help="With --no-wait: how long the answer waits on the reply queue once sent; after that any reader "
            "of the queue deletes it (the server may grant less: its max_reply_ttl, a day by default).",
        ),
    ] = 86400.0,
    as_task: Annotated[
        bool,
        typer.Option(
            "--task",
            help="Start the call as a task (the Tasks extension) and exit at once, printing the task id; "
            "`connect task wait TASK_ID` prints the result later, from any process. A server that does not run "
            "the tool as a task answers at once, and the result is printed as without --task.",
        ),
    ] = False,
    json_output: JsonFlag = False,
    client: ClientOptions,
) -> None:
    """Call a tool and print its result; progress and server log messages are shown while it runs.

    A tool the server runs as a task is followed to its end (its status is shown
    while it runs). Exits 1 when the tool reports an error (isError).
    """
    if no_wait and as_task:
        raise fail("--no-wait and --task are two ways of not waiting; choose one", ExitCode.USAGE)
    if as_task:
        from asyncmcp_cli.cli.connect.tasks import start_task

        start_task(client, name, arguments or [], args_json=args_json, no_validate=no_validate, json_output=json_output)
        return
    if no_wait:
        from asyncmcp_cli.cli.connect.later import fire_tool_call

        fire_tool_call(client, name, arguments or [], args_json=args_json, json_output=json_output, keep_for=keep_for)
        return

    from asyncmcp_cli.protocol.arguments import build_arguments

    check_words(arguments, args_json)
    notes: list[str] = []

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> Any:
        if no_validate:
            with activity.running(f"calling {name}"):
                prepared = build_arguments(arguments or [], args_json=args_json)
                return await mcp.call_tool(name, prepared, progress_callback=activity.progress)
        from asyncmcp_cli.cli.connect.cached_call import call_tool

        return await call_tool(mcp, catalog, activity, name, arguments or [], args_json, notes)  # type: ignore[arg-type]

    result = run_with_client(client, body)
    for note in notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    from asyncmcp_cli.cli.connect import render

    if json_output:
        print_json(render.as_json(result))
    else:
        render.print_call_result(result, console, err_console)
    if result.is_error:
        raise typer.Exit(int(ExitCode.TOOL_ERROR))


@connect_app.command("resources")
@with_transport_options
@with_client_options
def list_resources(*, json_output: JsonFlag = False, client: ClientOptions) -> None:
    """List the server's resources."""

    _print_listing(client, "resources", "resources", json_output=json_output)


@connect_app.command("templates")
@with_transport_options
@with_client_options
def list_templates(*, json_output: JsonFlag = False, client: ClientOptions) -> None:
    """List the server's resource templates (URI patterns to `read`)."""

    _print_listing(client, "templates", "resource templates", json_output=json_output)


@connect_app.command("read")
@with_transport_options
@with_client_options
def read_resource(
    uri: Annotated[str, typer.Argument(help="The resource URI (from `resources`, or a template filled in).")],
    *,
    json_output: JsonFlag = False,
    client: ClientOptions,
) -> None:
    """Read a resource and print its contents (text as text; binary contents noted with type and size)."""

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> Any:
        with activity.running(f"reading {uri}"):
            return await mcp.read_resource(uri)

    result = run_with_client(client, body)
    from asyncmcp_cli.cli.connect import render

    if json_output:
        print_json(render.as_json(result))
    else:
        render.print_read_result(result, console)


@connect_app.command("prompts")
@with_transport_options
@with_client_options
def list_prompts(*, json_output: JsonFlag = False, client: ClientOptions) -> None:
    """List the server's prompts and their arguments."""

    _print_listing(client, "prompts", "prompts", json_output=json_output)


@connect_app.command("prompt")
@with_transport_options
@with_client_options
def get_prompt(
    name: Annotated[str, typer.Argument(help="The prompt to get.")],
    arguments: Annotated[
        list[str] | None,
        typer.Argument(metavar="KEY=VALUE", help="Prompt arguments (text).", show_default=False),
    ] = None,
    *,
    no_validate: Annotated[
        bool, typer.Option("--no-validate", help="Send the arguments without checking them against the listing.")
    ] = False,
    json_output: JsonFlag = False,
    client: ClientOptions,
) -> None:
    """Get a prompt with its arguments filled in and print its messages."""
    from asyncmcp_cli.protocol.arguments import split_pairs

    check_words(arguments, None)

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> Any:
        if no_validate:
            values = dict(split_pairs(arguments or []))
        else:
            with activity.running("listing prompts"):
                values = await catalog.prompt_arguments(name, arguments or [])
        with activity.running(f"getting prompt {name}"):
            return await mcp.get_prompt(name, values)

    result = run_with_client(client, body)
    from asyncmcp_cli.cli.connect import render

    if json_output:
        print_json(render.as_json(result))
    else:
        render.print_prompt_result(result, console)
