"""`asyncmcp connect`: a complete MCP client, one-shot, interactive, or fire-now-collect-later."""

from __future__ import annotations

import typer

from asyncmcp_cli.cli.connect import commands, interactive, later, protocol, tasks  # noqa: F401 - they register the commands
from asyncmcp_cli.cli.connect.app import connect_app


def register(app: typer.Typer) -> None:
    app.add_typer(connect_app)
