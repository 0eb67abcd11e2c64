"""Fire now, collect later: `connect call --no-wait` and `connect collect`."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asyncmcp_cli.cli._common import (
    DEFAULT_CONNECT_TIMEOUT,
    ConnectTimeout,
    ExitCode,
    JsonFlag,
    LogLevel,
    TransportOptions,
    console,
    err_console,
    fail,
    print_json,
    run,
    seconds_or_zero,
    setup_logging,
    with_transport_options,
)
from asyncmcp_cli.cli.connect.app import connect_app
from asyncmcp_cli.cli.connect.options import ClientOptions
from asyncmcp_cli.cli.connect.words import check_words
from asyncmcp_cli.protocol import safe_text

if TYPE_CHECKING:
    import mcp_types as types

    from asyncmcp_cli.aws import AwsSettings
    from asyncmcp_cli.delivery.deferred import Collected, Reply
    from asyncmcp_cli.delivery.receipts import Receipt


def escape(text: str) -> str:
    """Rich's markup escape, imported on use: completing a word loads this module and prints nothing."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def fire_tool_call(
    client: ClientOptions,
    name: str,
    pairs: list[str],
    *,
    args_json: str | None,
    json_output: bool,
    keep_for: float,
) -> None:
    """Send a tools/call without waiting; print the receipt (alone on stdout) and how to collect it."""
    from asyncmcp_cli.delivery.deferred import fire
    from asyncmcp_cli.errors import ConfigurationError
    from asyncmcp_cli.protocol.arguments import build_arguments

    setup_logging(client.log_level)
    check_words(pairs, args_json)
    if client.era not in (None, "stateless"):
        raise fail("--no-wait sends a stateless-era request; --era handshake needs a live session", ExitCode.USAGE)

    async def main() -> Receipt:
        arguments = build_arguments(pairs, args_json=args_json)
        target = client.target()
        if target.transport is None:
            raise ConfigurationError(f"--no-wait needs a queue transport (sqs, sns+sqs), not {target.label()}")
        await client.check_first_contact(target)
        return await fire(
            target.transport,
            lambda mcp: mcp.call_tool(name, arguments),
            client_id=client.client_id,
            name=name,
            keep_for=keep_for,
        )

    receipt = run(main)
    if json_output:
        print_json(receipt.to_dict() | {"receipt": receipt.encode()})
        return
    err_console.print(
        f"[green]sent[/] tools/call {safe_text.markup(name)} · not waiting for the answer\n"
        f"  client id    {safe_text.markup(receipt.client_id)}\n"
        f"  request id   {safe_text.markup(receipt.request_id)}\n"
        f"  reply queue  {safe_text.markup(receipt.reply_queue)}\n"
        f"  kept for     {receipt.keep_for} s once answered",
        highlight=False,
    )
    console.print(receipt.encode(), soft_wrap=True, highlight=False)
    err_console.print("collect the answer with: asyncmcp connect collect RECEIPT", highlight=False)


@connect_app.command("collect")
@with_transport_options
def collect_reply(
    receipt_text: Annotated[
        str | None,
        typer.Argument(
            metavar="RECEIPT",
            help="The receipt `call --no-wait` printed (compact or JSON); '-' reads it from stdin.",
            show_default=False,
        ),
    ] = None,
    *,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            help="Instead of a receipt: collect the answers for this client id from the --reply-queue.",
        ),
    ] = None,
    request_id: Annotated[
        str | None, typer.Option("--request-id", help="With --client-id: only the answer to this request id.")
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", metavar="SECONDS", callback=seconds_or_zero, help="Wait up to SECONDS for the answer to arrive."
        ),
    ] = 0.0,
    connect_timeout: ConnectTimeout = DEFAULT_CONNECT_TIMEOUT,
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave the answer on the queue (collect it again later).")
    ] = False,
    trust_receipt_endpoint: Annotated[
        bool,
        typer.Option(
            "--trust-receipt-endpoint",
            help="Collect at the AWS endpoint and region the receipt names even when they are not the configured "
            "ones (--endpoint-url, AWS_ENDPOINT_URL, the profile, --region, AWS_REGION). Requests there are "
            "signed with your AWS credentials: only for a receipt you trust.",
        ),
    ] = False,
    json_output: JsonFlag = False,
    log_level: LogLevel = "warning",
    options: TransportOptions,
) -> None:
    """Print the answer to a request sent with `call --no-wait`, if it has arrived.

    Reads the reply queue for the receipt's client id and request id and leaves
    every other message there (deleting those past their expiry). Exits 7 when
    the answer is not there yet; 8 when it is gone: this machine already
    collected it (an answer is delivered once; --keep leaves it on the queue),
    or it is not there and its keep time has run out since the request was
    sent (it expired, or was never answered).

    The receipt's endpoint and region are used only when they are the
    configured ones (or with --trust-receipt-endpoint); a receipt that names
    another endpoint, or has a malformed field, is refused (exit 2).
    """
    from asyncmcp_cli.aws import AwsSettings, check_reachable
    from asyncmcp_cli.cli.connect.activity import Activity
    from asyncmcp_cli.delivery import collected as collected_here
    from asyncmcp_cli.delivery.deferred import collect

    setup_logging(log_level)
    if receipt_text and client_id:
        raise fail("give a RECEIPT or --client-id, not both", ExitCode.USAGE)
    if not receipt_text and not client_id:
        raise fail("give the RECEIPT that `call --no-wait` printed, or --client-id", ExitCode.USAGE)
    activity = Activity(err_console)

    async def main() -> tuple[Receipt, Collected]:
        receipt = _receipt_from(receipt_text, client_id, request_id, options, trust=trust_receipt_endpoint)
        settings = AwsSettings(endpoint_url=receipt.endpoint, region=receipt.region)
        await check_reachable(settings, within=connect_timeout)
        patience = 0.0 if collected_here.collected_at(receipt) else wait  # no waiting for what was taken already
        with activity.running(f"waiting for the answer to {_what(receipt)}" if patience else "looking for the answer"):
            bucket = _payload_bucket(options, receipt.transport)
            return receipt, await collect(receipt, wait=patience, keep=keep, payload_bucket=bucket)

    receipt, collected = run(main)
    if collected.replies and not keep:
        collected_here.remember(receipt, [reply.request_id for reply in collected.replies])
    earlier = None if collected.replies else collected_here.collected_at(receipt)
    if json_output:
        print_json(_as_json(receipt, collected) | ({"status": "collected", "collected_at": earlier} if earlier else {}))
    elif earlier:
        err_console.print(
            f"already collected: {escape(_what(receipt))} was collected here at {safe_text.markup(earlier)}; "
            "an answer is delivered once (collect with --keep to leave it on the queue)",
            highlight=False,
            soft_wrap=True,
        )
    elif collected.expired:
        err_console.print(
            f"expired: {escape(_what(receipt))} is not on the reply queue, and answers to it were kept "
            f"{receipt.keep_for} s once sent"
            + (f" (sent {safe_text.markup(receipt.sent_at)})" if receipt.sent_at else "")
            + "; if it was answered, the answer has expired",
            highlight=False,
            soft_wrap=True,
        )
    elif not collected.replies:
        err_console.print(
            f"not answered yet: {escape(_what(receipt))}"
            + (f" (sent {safe_text.markup(receipt.sent_at)})" if receipt.sent_at else "")
            + "; try again later, or wait with --wait SECONDS",
            highlight=False,
            soft_wrap=True,
        )
    else:
        for reply in collected.replies:
            _print_reply(reply, many=len(collected.replies) > 1)
    raise typer.Exit(int(ExitCode.GONE if earlier else _exit_code(collected)))


def _receipt_from(
    text: str | None, client_id: str | None, request_id: str | None, options: TransportOptions, *, trust: bool
) -> Receipt:
    """The receipt to collect: parsed, checked and bound to the configured endpoint; or built from --client-id."""
    from asyncmcp_cli.delivery.receipts import Receipt

    if text:
        receipt = Receipt.parse(sys.stdin.read() if text == "-" else text)
        return receipt.bound_to(_configured_aws(options, receipt.transport), trust=trust)
    assert client_id is not None
    from asyncmcp_cli.transports.sns import SnsSqsTransport
    from asyncmcp_cli.transports.sqs import SqsTransport

    transport = options.resolve()
    if not isinstance(transport, (SqsTransport, SnsSqsTransport)):
        raise fail(f"collect reads an SQS reply queue; {transport.scheme!r} has none", ExitCode.CONFIGURATION)
    o = transport.options
    return Receipt(
        transport=transport.scheme,
        reply_queue=o.reply_queue,
        client_id=client_id,
        request_id=request_id,
        endpoint=o.aws.resolved_endpoint,
        region=o.aws.resolved_region,
    )


def _configured_aws(options: TransportOptions, transport: str) -> AwsSettings:
    """The endpoint and region this invocation is configured with (flags > environment > profile)."""
    from asyncmcp_cli.aws import AwsSettings

    settings = dataclasses.replace(options, transport=transport).settings()
    return AwsSettings(endpoint_url=settings.get("endpoint_url") or None, region=settings.get("region") or None)


def _payload_bucket(options: TransportOptions, transport: str) -> str | None:
    """The payload bucket configured here (``-o payload_bucket=``, the profile): large answers are read from it
    only. A receipt never names one: it is not trusted."""
    bucket = dataclasses.replace(options, transport=transport).settings().get("payload_bucket")
    return str(bucket) if bucket else None


def _what(receipt: Receipt) -> str:
    """What the receipt is for, as printable text (escape it before putting it into markup)."""
    return safe_text.printable(_describe(receipt))


def _describe(receipt: Receipt) -> str:
    method = receipt.method or "request"
    name = f" {receipt.name}" if receipt.name else ""
    rid = f" (id {receipt.request_id})" if receipt.request_id is not None else f" for client {receipt.client_id}"
    return f"{method}{name}{rid}"


def _print_reply(reply: Reply, *, many: bool) -> None:
    from asyncmcp_cli.cli.connect import render

    if many:
        err_console.print(f"[dim]── answer to request {safe_text.markup(reply.request_id)}[/]", highlight=False)
    if reply.error is not None:
        line = escape(render.error_line(reply.error))
        err_console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
        return
    call = _as_call_result(reply)
    if call is not None:
        render.print_call_result(call, console, err_console)
    else:
        console.print(safe_text.json_view(reply.result), soft_wrap=True)


def _as_call_result(reply: Reply) -> types.CallToolResult | None:
    import mcp_types as types

    if reply.receipt.method not in (None, "tools/call") or "content" not in reply.result:
        return None
    try:
        return types.CallToolResult.model_validate(reply.result, by_name=False)
    except ValueError:
        return None


def _exit_code(collected: Collected) -> ExitCode:
    if not collected.replies:
        return ExitCode.GONE if collected.expired else ExitCode.PENDING
    if any(reply.error is not None for reply in collected.replies):
        return ExitCode.PROTOCOL
    if any((call := _as_call_result(reply)) is not None and call.is_error for reply in collected.replies):
        return ExitCode.TOOL_ERROR
    return ExitCode.OK


def _as_json(receipt: Receipt, collected: Collected) -> dict[str, Any]:
    from asyncmcp_cli.cli.connect import render

    replies = []
    for reply in collected.replies:
        entry: dict[str, Any] = {"request_id": reply.request_id}
        if reply.error is not None:
            entry["error"] = render.as_json(reply.error)
        else:
            entry["result"] = reply.result
        replies.append(entry)
    return {
        "status": "answered" if collected.replies else "expired" if collected.expired else "pending",
        "client_id": receipt.client_id,
        "request_id": receipt.request_id,
        "replies": replies,
        "notifications": [render.as_json(n) for n in collected.notifications],
    }
