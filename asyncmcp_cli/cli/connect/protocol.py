"""`connect ping` and `connect raw`: the protocol itself, as the MCP Inspector's CLI offers it.

`ping` checks that the server answers (and how fast, a queue round trip
included). `raw METHOD --params JSON` sends any JSON-RPC request and prints
the result object as the server sent it: for methods this client has no
command for (a server's own extension, ``completion/complete``,
``resources/subscribe``), and to see exactly what a server answers.
"""

from __future__ import annotations

import json
import time
import warnings
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asyncmcp_cli.cli._common import ExitCode, JsonFlag, console, fail, print_json, with_transport_options
from asyncmcp_cli.cli.connect.app import connect_app
from asyncmcp_cli.cli.connect.commands import run_with_client
from asyncmcp_cli.cli.connect.options import ClientOptions, with_client_options

if TYPE_CHECKING:
    from mcp import Client

    from asyncmcp_cli.cli.connect.activity import Activity
    from asyncmcp_cli.protocol.catalog import Catalog


@connect_app.command("ping")
@with_transport_options
@with_client_options
def ping(*, json_output: JsonFlag = False, client: ClientOptions) -> None:
    """Check that the server answers and print the round trip in milliseconds.

    Sends `ping` (handshake era) or, in the 2026-07-28 era which removed it, `server/discover`.
    """

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> float:
        with activity.running("ping"):
            return await round_trip_ms(mcp)

    elapsed_ms = run_with_client(client, body)
    if json_output:
        print_json({"ok": True, "ms": round(elapsed_ms, 1)})
    else:
        console.print(f"pong in {elapsed_ms:.0f} ms", highlight=False)


@connect_app.command("raw")
@with_transport_options
@with_client_options
def raw_request(
    method: Annotated[
        str, typer.Argument(metavar="METHOD", help="The JSON-RPC method, e.g. tools/list or completion/complete.")
    ],
    *,
    params: Annotated[
        str | None,
        typer.Option("--params", metavar="JSON", help="The request's params, one JSON object. [default: none]"),
    ] = None,
    client: ClientOptions,
) -> None:
    """Send one JSON-RPC request as given and print the server's result as JSON.

    The protocol version and client information are added as for any request
    (the `_meta` of the stateless era); the result is checked against the
    protocol for the methods it defines.
    """
    parsed = _params(params)

    async def body(mcp: Client, catalog: Catalog, activity: Activity) -> Any:
        with activity.running(method):
            return await send_raw(mcp, method, parsed)

    print_json(run_with_client(client, body))


async def round_trip_ms(mcp: Client) -> float:
    """Milliseconds for the server to answer ``ping`` (handshake era) or ``server/discover``.

    The 2026-07-28 era removed ``ping``; ``server/discover`` is its cheapest request that
    every server answers, so it stands in.
    """
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    started = time.perf_counter()
    if mcp.protocol_version in MODERN_PROTOCOL_VERSIONS:
        await mcp.session.send_discover(mcp.protocol_version)
    else:
        with warnings.catch_warnings():  # "removed as of 2026-07-28": not the era this connection speaks
            warnings.simplefilter("ignore")
            await mcp.send_ping()
    return (time.perf_counter() - started) * 1000


async def send_raw(mcp: Client, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """One request through the client's session (so the era's stamping applies); the raw result."""
    import mcp_types as types
    from pydantic import TypeAdapter

    request: Any = types.Request[dict[str, Any] | None, str](method=method, params=params)
    return await mcp.session.send_request(request, TypeAdapter(dict[str, Any]))


def _params(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"--params is not valid JSON: {exc}", ExitCode.USAGE) from None
    if not isinstance(loaded, dict):
        raise fail(f"--params must be a JSON object, not {type(loaded).__name__}", ExitCode.USAGE)
    return loaded
