"""`asyncmcp local`: run the embedded local AWS endpoint in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncmcp_cli.cli._common import console, counted, err_console, exit_code_for, fail


def register(app: typer.Typer) -> None:
    app.command("local")(local)


def local(
    *,
    host: Annotated[str, typer.Option(help="Address to bind (keep it on loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 4750,
    create_queues: Annotated[
        bool, typer.Option("--create-queues/--no-create-queues", help="Create asyncmcp-requests and asyncmcp-replies.")
    ] = True,
    provision: Annotated[
        bool,
        typer.Option(
            "--provision",
            help="Also provision it as `asyncmcp provision local` does (default names) and write the 'local' "
            "profile, so serve, connect and tail need no flags.",
        ),
    ] = False,
) -> None:
    """Run a local AWS endpoint (moto: SQS, SNS, S3) until Ctrl-C. No AWS account needed.

    Prints the environment to point `serve` and `connect` (and any AWS SDK) at it.
    """
    import threading
    from contextlib import ExitStack

    from asyncmcp_cli.aws import local_aws
    from asyncmcp_cli.errors import ConfigurationError

    with ExitStack() as stack:
        try:
            endpoint = stack.enter_context(local_aws.local_endpoint(host, port))
        except ConfigurationError as exc:
            raise fail(str(exc), exit_code_for(exc)) from None
        if create_queues:
            local_aws.create_queues(endpoint.settings)
        if provision:
            _provision(endpoint.url)
        err_console.print(f"[green]local AWS endpoint[/] at {endpoint.url} (SQS, SNS, S3) · Ctrl-C to stop")
        for name, value in endpoint.exports().items():
            console.print(f"export {name}={value}", highlight=False)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            err_console.print("stopped")


def _provision(url: str) -> None:
    from asyncmcp_cli import provision
    from asyncmcp_cli.errors import AsyncMCPError

    try:
        result = provision.run("local", provision.Spec(), endpoint_url=url)
    except AsyncMCPError as exc:
        raise fail(f"could not provision the local endpoint: {exc}", exit_code_for(exc)) from None
    provisioned = counted(len(result.steps), "resource")
    err_console.print(f"[green]provisioned[/] {provisioned}; profile 'local' in {result.profile_path}")
