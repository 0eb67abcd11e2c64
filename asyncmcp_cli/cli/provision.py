"""`asyncmcp provision`: create (or tear down) what the transports need, and write a profile."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer
from rich.table import Table

from asyncmcp_cli.cli._common import (
    JsonFlag,
    console,
    counted,
    err_console,
    exit_code_for,
    fail,
    print_json,
    setup_logging,
    valid_endpoint_url,
)

_ACTION_STYLES = {
    "create": "green",
    "update": "yellow",
    "exists": "dim",
    "delete": "red",
    "absent": "dim",
    "keep": "yellow",
    "reuse": "dim",
    "plan": "cyan",
}


class TargetName(str, Enum):
    local = "local"
    localstack = "localstack"
    aws = "aws"


class SnsReplies(str, Enum):
    shared = "shared"
    topic = "topic"


def register(app: typer.Typer) -> None:
    app.command("provision")(provision)


def provision(
    target: Annotated[
        TargetName,
        typer.Argument(
            help="local: a running `asyncmcp local` endpoint (http://127.0.0.1:4750 or AWS_ENDPOINT_URL) · "
            "localstack: http://localhost:4566 (or AWS_ENDPOINT_URL / LOCALSTACK_HOST) · "
            "aws: your AWS account (standard credential chain)."
        ),
    ],
    *,
    prefix: Annotated[
        str, typer.Option(help="Prefix of every name (lowercase letters, digits, hyphens).")
    ] = "asyncmcp",
    transport: Annotated[
        list[str] | None,
        typer.Option(
            "--transport",
            "-t",
            help="What to provision for: sqs, sns+sqs (repeatable). [default: both]",
            show_default=False,
        ),
    ] = None,
    fifo: Annotated[
        bool, typer.Option("--fifo", help="FIFO queues and topics (ordered per client; names end in .fifo).")
    ] = False,
    max_receive_count: Annotated[
        int,
        typer.Option(help="Receives before a request is moved to its dead-letter queue; 0 makes no DLQs.", min=0),
    ] = 5,
    bucket: Annotated[bool, typer.Option("--bucket/--no-bucket", help="Also an S3 bucket for large payloads.")] = False,
    raw_delivery: Annotated[
        bool,
        typer.Option(
            "--raw-delivery/--no-raw-delivery",
            help="SNS subscriptions deliver the message as published (on) or in an SNS envelope (off).",
        ),
    ] = True,
    sns_replies: Annotated[
        SnsReplies,
        typer.Option(
            help="SNS+SQS responses: one shared reply topic, each reply queue filtered on a client id prefix "
            "under which every client session takes a fresh id (shared), or one reply topic per client (topic)."
        ),
    ] = SnsReplies.shared,
    servers: Annotated[
        int, typer.Option(help="SNS+SQS server queues subscribed to the request topic (fan-out).", min=1, max=10)
    ] = 1,
    clients: Annotated[int, typer.Option(help="SNS+SQS client reply queues.", min=1, max=10)] = 1,
    tap: Annotated[
        bool,
        typer.Option(
            "--tap",
            help="Also a tap topic (PREFIX-tap): the profile's servers and clients publish a copy of every "
            "message they send to it, so `tail --follow` watches without touching the live queues.",
        ),
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Name of the profile to write (or tear down); what the run creates is tagged with it. "
            "[default: the target's name]"
        ),
    ] = None,
    write_profile: Annotated[
        bool, typer.Option("--write-profile/--no-write-profile", help="Write the profile serve/connect/tail read.")
    ] = True,
    replace_subscription: Annotated[
        bool,
        typer.Option(
            "--replace-subscription",
            help="Change an existing SNS subscription this profile did not create (its filter policy, raw "
            "delivery) instead of refusing; whoever else uses it is affected.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the plan; create nothing. With --teardown: what would be deleted and kept, and why.",
        ),
    ] = False,
    teardown: Annotated[
        bool,
        typer.Option(
            "--teardown",
            help="Delete what the profile's run created and no other profile uses (as its record says); "
            "the other options are ignored.",
        ),
    ] = False,
    env: Annotated[
        bool, typer.Option("--env", help="Print `export` lines for the profile on stdout (the table goes to stderr).")
    ] = False,
    json_output: JsonFlag = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url", callback=valid_endpoint_url, help="Endpoint to use instead of the target's default."
        ),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", envvar="AWS_REGION", help="AWS region.")] = None,
) -> None:
    """Create the queues, topics, subscriptions, dead-letter queues (and bucket) the transports need.

    Idempotent: what exists and matches is left alone, what differs is corrected
    (except a subscription the profile did not create: see --replace-subscription).
    Writes a profile so a bare `asyncmcp serve --transport sqs` and
    `asyncmcp connect ... --transport sqs` find everything. --teardown deletes
    what that profile created, and nothing another profile uses.
    """
    from asyncmcp_cli import errors
    from asyncmcp_cli import provision as library
    from asyncmcp_cli.provision.plan import TRANSPORTS
    from asyncmcp_cli.provision.targets import resolve

    setup_logging("warning")
    spec = library.Spec(
        prefix=prefix,
        transports=tuple(dict.fromkeys(transport)) if transport else TRANSPORTS,
        fifo=fifo,
        max_receive_count=max_receive_count,
        bucket=bucket,
        raw_delivery=raw_delivery,
        sns_replies=sns_replies.value,  # type: ignore[arg-type]
        servers=servers,
        clients=clients,
        tap=tap,
    )
    steps: list[Any] = []
    out = err_console if env else console
    try:
        if dry_run and not teardown:
            plan = library.build_plan(spec)
            named = (profile or target.value) if write_profile else None
            _render_plan(plan, resolve(target.value, endpoint_url=endpoint_url, region=region), named, json_output)
            return
        common = {"endpoint_url": endpoint_url, "region": region, "profile_name": profile, "on_step": steps.append}
        if teardown:
            result = library.teardown(target.value, dry_run=dry_run, **common)
        else:
            result = library.run(
                target.value, spec, write_profile=write_profile, replace_subscription=replace_subscription, **common
            )
    except errors.AsyncMCPError as exc:
        if steps and not json_output:
            out.print(_steps_table(steps, "done before the error"))
        raise fail(str(exc), exit_code_for(exc)) from None
    if json_output:
        print_json(
            _report(
                result.target,
                result.outcome.account,
                result.profile_name,
                result.steps,
                teardown=teardown,
                dry_run=dry_run,
            )
            | _written(result, teardown)
        )
    else:
        _render_result(result, teardown, out)
    if env and result.profile is not None and not teardown:
        for name, value in result.profile.exports().items():
            typer.echo(f"export {name}={value}")


def _render_plan(plan: Any, target: Any, profile: str | None, as_json: bool) -> None:
    """The offline plan (``--dry-run`` without ``--teardown``): nothing is looked up, so every action is ``plan``."""
    from asyncmcp_cli.provision import Step

    steps = [Step("plan", r.kind, r.name, r.describe()) for r in plan.resources]
    if as_json:
        print_json(_report(target, None, profile, steps, teardown=False, dry_run=True) | _written(None, False))
        return
    title = f"plan for {target.name}: {counted(len(steps), 'resource')}, each created unless it exists (dry run)"
    console.print(_steps_table(steps, title))
    err_console.print("nothing was changed; run again without --dry-run to do it")


def _steps_table(steps: list[Any], title: str) -> Table:
    table = Table(title=title)
    for column in ("action", "kind", "name", "details"):
        table.add_column(column, overflow="fold")
    for step in steps:
        style = _ACTION_STYLES.get(step.action, "")
        table.add_row(f"[{style}]{step.action}[/]", step.kind, step.name, step.detail)
    return table


def _render_result(result: Any, teardown: bool, out: Any) -> None:
    verb = "teardown" if teardown else "provisioned"
    dry = " (dry run)" if result.dry_run else ""
    out.print(_steps_table(result.steps, f"{verb} at {result.target.where()} (account {result.outcome.account}){dry}"))
    if teardown:
        counts = {action: sum(s.action == action for s in result.steps) for action in ("delete", "keep", "absent")}
        prefix = (result.profile.spec or {}).get("prefix") if result.profile else None
        would = "would delete" if result.dry_run else "deleted"
        out.print(
            f"profile {result.profile_name!r} (prefix {prefix!r}): {would} {counts['delete']}, "
            f"kept {counts['keep']}, already gone {counts['absent']}",
            highlight=False,
        )
        if result.dry_run:
            err_console.print("nothing was changed; run again without --dry-run to do it")
        elif result.profile_removed:
            out.print("profile removed", highlight=False)
        else:
            out.print("profile kept: it still owns what could not be deleted yet", highlight=False)
        return
    if result.profile is None:
        return
    out.print(f"[green]profile[/] {result.profile.name!r} written to {result.profile_path} (now the default)")
    kept = [s for s in result.steps if s.action == "reuse" or (s.action == "update" and not s.owned)]
    if kept:
        out.print(
            f"{counted(len(kept), 'resource')} already existed: used, not owned; this profile's teardown leaves them",
            highlight=False,
        )
    transports = result.profile.transports
    first = "sqs" if "sqs" in transports else "sns+sqs"
    out.print("next, in separate terminals:", highlight=False)
    out.print(f"  asyncmcp serve --transport {first}", highlight=False, markup=False)
    out.print(f"  asyncmcp connect tools --transport {first}", highlight=False, markup=False)
    if any("tap" in section for section in transports.values()):
        out.print("  asyncmcp tail --pair --follow", highlight=False, markup=False)
    else:
        pair = "" if first == "sqs" else " sns-requests"
        hint = "(to follow live traffic: provision with --tap)"
        out.print(f"  asyncmcp tail{pair} --pair   {hint}", highlight=False, markup=False)


def _report(
    target: Any, account: str | None, profile: str | None, steps: list[Any], *, teardown: bool, dry_run: bool
) -> dict[str, Any]:
    """The one JSON shape of every run, dry or not: the same keys whatever happened."""
    return {
        "profile": profile,
        "target": target.name,
        "endpoint": target.endpoint,
        "region": target.region,
        "account": account,
        "teardown": teardown,
        "dry_run": dry_run,
        "actions": [
            {"action": s.action, "kind": s.kind, "name": s.name, "id": s.id, "owned": s.owned, "detail": s.detail}
            for s in steps
        ],
    }


def _written(result: Any, teardown: bool) -> dict[str, Any]:
    written = None
    if result is not None and not teardown and result.profile is not None:
        written = {
            "path": str(result.profile_path),
            "transports": result.profile.transports,
            "roles": result.profile.roles,
            "bucket": result.profile.bucket,
            "exports": result.profile.exports(),
        }
    removed = bool(result is not None and result.profile_removed)
    return {"profile_written": written, "profile_removed": removed}
