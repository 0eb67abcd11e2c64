"""`asyncmcp local`: run the embedded local AWS endpoint in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncmcp_cli.cli._common import console, err_console


def register(app: typer.Typer) -> None:
    app.command("local")(local)


def local(
    *,
    host: Annotated[str, typer.Option(help="Address to bind (keep it on loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 4750,
    create_queues: Annotated[
        bool, typer.Option("--create-queues/--no-create-queues", help="Create asyncmcp-requests and asyncmcp-replies.")
    ] = True,
) -> None:
    """Run a local AWS endpoint (moto: SQS, SNS, S3) until Ctrl-C. No AWS account needed.

    Prints the environment to point `serve` and `connect` (and any AWS SDK) at it.
    """
    import threading

    from asyncmcp_cli import local_aws

    with local_aws.local_endpoint(host, port) as endpoint:
        if create_queues:
            local_aws.create_queues(endpoint.settings)
        err_console.print(f"[green]local AWS endpoint[/] at {endpoint.url} (SQS, SNS, S3) · Ctrl-C to stop")
        for name, value in endpoint.exports().items():
            console.print(f"export {name}={value}", highlight=False)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            err_console.print("stopped")
