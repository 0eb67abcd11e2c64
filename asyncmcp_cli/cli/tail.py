"""`asyncmcp tail`: watch the MCP traffic on queues; redrive dead letters."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from asyncmcp_cli.cli import completers
from asyncmcp_cli.cli._common import (
    DEFAULT_CONNECT_TIMEOUT,
    PIPE_WIDTH,
    ConnectTimeout,
    JsonFlag,
    LogLevel,
    console,
    counted,
    err_console,
    print_json,
    run,
    seconds_or_zero,
    setup_logging,
    valid_endpoint_url,
)
from asyncmcp_cli.delivery.reply_expiry import ORPHAN_RECEIVE_COUNT
from asyncmcp_cli.protocol import safe_text

_KIND_STYLES = {"request": "cyan", "notification": "blue", "response": "green", "error": "red", "invalid": "bold red"}
_COLUMNS = (  # (header, width, min width): on a narrow terminal the names shrink first
    ("sent", 12, 12),
    ("queue", 22, 8),
    ("kind", 12, 12),
    ("method", 24, 10),
    ("id", 6, 3),
    ("client", 14, 6),
    ("size", 7, 7),
    ("recv", 4, 4),
    ("", 30, 8),
)


def register(app: typer.Typer) -> None:
    app.command("tail")(tail)


def _complete_roles(incomplete: str) -> list[str]:
    from asyncmcp_cli import profiles
    from asyncmcp_cli.inspect import ROLES

    try:
        profile = profiles.load()
    except Exception:  # completion must never fail loudly
        profile = None
    roles = sorted(profile.roles) if profile else list(ROLES)
    return [role for role in roles if role.startswith(incomplete)]


def tail(
    queues: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="QUEUE",
            help="Queues to watch: a role from the profile (requests, replies, dlq, sns-requests, ...), "
            "a queue name, or a URL. [default: requests; with --pair, requests and replies]",
            autocompletion=_complete_roles,
            show_default=False,
        ),
    ] = None,
    *,
    pair: Annotated[
        bool, typer.Option("--pair", help="Also watch the matching replies queue; pair responses with requests.")
    ] = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep watching until Ctrl-C, through the profile's tap (see `provision --tap`): copies of "
            "every message, the live queues untouched. QUEUE names then narrow the rows to what was sent there.",
        ),
    ] = False,
    tap: Annotated[
        str | None,
        typer.Option(
            "--tap",
            envvar="ASYNCMCP_TAP",
            help="With --follow: the tap topic (name or ARN) to read. [default: the profile's]",
            show_default=False,
        ),
    ] = None,
    steal: Annotated[
        bool,
        typer.Option(
            "--steal",
            help="With --follow: receive from the live queues themselves, as a snapshot does. This delays "
            "the messages for their consumers and raises their receive counts (enough peeks dead-letter them).",
        ),
    ] = False,
    count: Annotated[int | None, typer.Option("--count", "-n", min=1, help="Stop after N messages.")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", callback=seconds_or_zero, help="Stop after this many seconds.")
    ] = None,
    consume: Annotated[
        bool, typer.Option("--consume", help="Delete the messages shown (default: give them back at once).")
    ] = False,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Print message bodies exactly as they are on the queue, control characters included "
            "(elsewhere they are shown escaped).",
        ),
    ] = False,
    json_output: JsonFlag = False,
    method: Annotated[
        list[str] | None, typer.Option("--method", help="Only this JSON-RPC method (glob; repeatable).")
    ] = None,
    client: Annotated[list[str] | None, typer.Option("--client", help="Only this client id (repeatable).")] = None,
    message_id: Annotated[
        list[str] | None, typer.Option("--id", help="Only this JSON-RPC id (repeatable).", show_default=False)
    ] = None,
    redrive: Annotated[
        bool,
        typer.Option(
            "--redrive",
            help="Move the messages a dead-letter queue holds now (e.g. `tail dlq --redrive`) back, each once "
            "(at most --count); prints how many, also on Ctrl-C.",
        ),
    ] = False,
    to: Annotated[
        str | None, typer.Option("--to", help="With --redrive: the queue to move them to. [default: their source]")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="ASYNCMCP_PROFILE",
            autocompletion=completers.profiles,
            help="Profile to read roles and endpoint from.",
        ),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            envvar="AWS_ENDPOINT_URL",
            callback=valid_endpoint_url,
            help="AWS endpoint (moto, LocalStack).",
        ),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", envvar="AWS_REGION", help="AWS region.")] = None,
    connect_timeout: ConnectTimeout = DEFAULT_CONNECT_TIMEOUT,
    log_level: LogLevel = "warning",
) -> None:
    """Watch the MCP messages on queues: time, kind, method, id, client, size, receive count.

    SQS has no true peek. Without --follow, tail takes a snapshot: it receives
    what is on the queues now, holds it hidden while it looks (its consumers
    wait meanwhile), shows it and gives it back, which raises each message's
    receive count: on a queue with a redrive policy, a message peeked
    max-receive-count times without being consumed moves to the dead-letter
    queue. --consume deletes what it shows instead.

    --follow reads a tap instead (`asyncmcp provision TARGET --tap`): copies
    that servers and clients publish, through a temporary queue of its own
    that is removed on exit, so live traffic is never delayed, and requests
    and responses all appear, paired and in send order. Without a tap it
    refuses, unless --steal (or --consume) says to take from the live queues.
    """
    from asyncmcp_cli import aws, inspect, profiles
    from asyncmcp_cli.errors import ConfigurationError

    setup_logging(log_level)
    progress = inspect.RedriveProgress()

    async def main() -> None:
        chosen = profiles.load(profile)
        settings = aws.AwsSettings(
            endpoint_url=endpoint_url or (chosen.endpoint_url if chosen else None),
            region=region or (chosen.region if chosen else None),
        )
        await aws.check_reachable(settings, within=connect_timeout)
        roles = chosen.roles if chosen else {}
        tap_topic = tap or (chosen.tap if chosen else None)
        if follow and not (steal or consume or redrive or tap_topic):
            raise ConfigurationError(
                "tail --follow would take messages from the live queues (delaying them, raising their receive "
                "counts); run `asyncmcp provision TARGET --tap` to follow a tap, or pass --steal to peek anyway"
            )
        if redrive:
            targets = inspect.queues_for(queues or ["dlq"], roles)
            await _redrive(settings, targets, to, count, json_output, progress)
            return
        targets = inspect.queues_for(queues or [], roles, pair=pair)
        options = inspect.TailOptions(
            follow=follow,
            consume=consume,
            count=count,
            timeout=timeout,
            methods=tuple(method or ()),
            clients=tuple(client or ()),
            ids=tuple(message_id or ()),
        )
        view = _View(raw=raw, as_json=json_output, streaming=follow)
        if follow and tap_topic and not (steal or consume):
            destinations = inspect.queues_for(queues, roles) if queues else None
            announce = view.start(consume, tap=tap_topic)
            summary = await inspect.follow_tap(
                settings, tap_topic, options, view.show, destinations=destinations, on_start=announce
            )
        else:
            summary = await inspect.tail(settings, targets, options, view.show, on_start=view.start(consume))
        view.finish(summary)

    try:
        run(main)
    except typer.Exit as stop:
        if redrive and stop.exit_code == 130:  # Ctrl-C: still say what was moved
            _report_redrive(progress.result(), json_output, interrupted=True)
        raise


async def _redrive(
    settings: Any, targets: list[str], to: str | None, limit: int | None, as_json: bool, progress: Any
) -> None:
    from asyncmcp_cli.errors import ConfigurationError
    from asyncmcp_cli.inspect import redrive

    if len(targets) != 1:
        raise ConfigurationError("--redrive takes one dead-letter queue")
    _report_redrive(await redrive(settings, targets[0], to=to, limit=limit, progress=progress), as_json)


def _report_redrive(result: Any, as_json: bool, *, interrupted: bool = False) -> None:
    if as_json:
        print_json(
            {
                "dlq": result.dlq,
                "source": result.source,
                "moved": result.moved,
                "failed": result.failed,
                "problem": result.problem,
                "interrupted": interrupted,
            }
        )
        return
    if interrupted:
        where = f" back to {result.source}" if result.source else ""
        console.print(
            f"interrupted: moved {counted(result.moved, 'message')} from "
            f"{result.dlq or 'the dead-letter queue'}{where}",
            highlight=False,
        )
        return
    if result.moved or result.failed:
        moved = counted(result.moved, "message")
        console.print(f"moved {moved} from {result.dlq} back to {result.source}", highlight=False)
    else:
        console.print(f"no messages to move in {result.dlq}", highlight=False)
    if result.failed:
        why = f" ({result.problem})" if result.problem else ""
        err_console.print(
            f"{counted(result.failed, 'message')} could not be moved; they stay in {result.dlq}{why}", style="yellow"
        )


class _View:
    """Renders observations: a table for a snapshot, aligned lines when following, NDJSON, or raw bodies."""

    def __init__(self, *, raw: bool, as_json: bool, streaming: bool) -> None:
        self.raw, self.as_json, self.streaming = raw, as_json, streaming
        self.table = _table(header=True)

    def start(self, consume: bool, *, tap: str | None = None) -> Any:
        def announce(infos: list[Any]) -> None:
            if self.raw or self.as_json:
                return
            if tap is not None:
                err_console.print(
                    f"following tap {safe_text.markup(tap.rsplit(':', 1)[-1])} through {infos[0].name} (removed on "
                    "exit); the live queues are not touched",
                    highlight=False,
                )
                console.print(_table(header=True))
                return
            names = ", ".join(
                info.name + (f" (dead-letters after {info.max_receive_count})" if info.max_receive_count else "")
                for info in infos
            )
            if consume:
                err_console.print(f"consuming from {names}: messages shown are deleted", highlight=False)
            else:
                err_console.print(
                    f"peeking at {names}. Each look is a receive: it raises the message's receive count, and a "
                    "message peeked max-receive-count times without being consumed moves to the dead-letter queue.",
                    highlight=False,
                )
            if self.streaming:
                console.print(_table(header=True))

        return announce

    def show(self, observed: Any) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps(observed.to_json(), default=str) + "\n")
            sys.stdout.flush()
        elif self.raw:
            sys.stdout.write(observed.raw_body + "\n")
            sys.stdout.flush()
        elif self.streaming:
            line = _table(header=False)
            line.add_row(*_cells(observed))
            console.print(line)
        else:
            self.table.add_row(*_cells(observed))

    def finish(self, summary: Any) -> None:
        if self.as_json or self.raw:
            return
        if not self.streaming and summary.shown:
            console.print(self.table)
        consumed = f", {summary.consumed} consumed" if summary.consumed else ""
        orphaned = (
            f", {summary.orphaned} orphaned (expired, or received {ORPHAN_RECEIVE_COUNT}+ times: no client is "
            "taking them)"
            if summary.orphaned
            else ""
        )
        err_console.print(f"{counted(summary.shown, 'message')} shown{consumed}{orphaned}", highlight=False)


def _table(*, header: bool) -> Table:
    table = Table(show_header=header, box=None, padding=(0, 2, 0, 0), pad_edge=False, header_style="bold")
    if console.width >= PIPE_WIDTH:  # not a terminal: whole values, in columns at least as wide as on one
        for index, (name, preferred, _) in enumerate(_COLUMNS):
            last = index == len(_COLUMNS) - 1
            table.add_column(name, min_width=None if last else preferred + 2, no_wrap=True, overflow="ignore")
        return table
    widths = _widths(console.width)
    for index, ((name, _, _), width) in enumerate(zip(_COLUMNS, widths, strict=True)):
        padding = 2 if index < len(widths) - 1 else 0  # a column's width includes its padding
        table.add_column(name, width=width + padding, no_wrap=True, overflow="ellipsis")
    return table


def _widths(total: int) -> list[int]:
    """Column widths for a console `total` wide: every minimum, then preferred widths in column order."""
    widths = [minimum for _, _, minimum in _COLUMNS]
    spare = total - sum(widths) - (len(_COLUMNS) - 1) * 2  # two spaces of padding between columns
    for index, (_, preferred, minimum) in enumerate(_COLUMNS):
        grow = max(0, min(preferred - minimum, spare))
        widths[index] += grow
        spare -= grow
    widths[-1] += max(0, spare)  # the note (latency, or what is wrong with a body) takes what is left
    return widths


def _cells(observed: Any) -> list[Text]:
    sent = observed.sent_at.astimezone().strftime("%H:%M:%S.%f")[:-3] if observed.sent_at else "?"
    method = observed.method or (f"↳ {observed.paired_method}" if observed.paired_method else "")
    if observed.kind == "invalid":
        preview = observed.raw_body.replace("\n", " ")
        note = safe_text.text(f"({observed.problem}) {preview}", style="red")
    elif observed.latency_ms is not None:
        note = Text(f"+{observed.latency_ms} ms")
    else:
        note = Text("via SNS" if observed.topic_arn else "", style="dim")
    receives = Text(
        "" if observed.tapped else str(observed.receive_count),
        style="red" if observed.orphaned else "yellow" if observed.receive_count > 1 else "",
    )
    return [
        Text(sent, style="dim"),
        safe_text.text(observed.queue),
        Text(observed.kind, style=_KIND_STYLES.get(observed.kind, "")),
        safe_text.text(method),  # method, id and client id are what the message says: untrusted
        safe_text.text("" if observed.id is None else observed.id),
        safe_text.text(observed.client_id or ""),
        Text(_size(observed.size)),
        receives,
        note,
    ]


def _size(size: int) -> str:
    return f"{size} B" if size < 10_240 else f"{size // 1024} KiB"
