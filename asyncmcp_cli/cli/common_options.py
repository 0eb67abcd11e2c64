"""Options several commands share (log level and format, --metrics, --json, --connect-timeout) and their checks."""

# No `from __future__ import annotations`: Typer reads the signature of each of these option callbacks once per
# option that names it (every build of a command), and string annotations would be evaluated each time.

import math
from enum import Enum
from typing import Annotated

import typer

from asyncmcp_cli import errors


def _seconds(value: float | None, *, zero_ok: bool) -> float | None:
    if value is not None and (not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok)):
        raise typer.BadParameter(f"{value} is not a number of seconds {'>= 0' if zero_ok else '> 0'}")
    return value


def seconds(value: float | None) -> float | None:
    """A Typer callback for an option in seconds: finite and above zero (a typo fails before anything starts)."""
    return _seconds(value, zero_ok=False)


def seconds_or_zero(value: float | None) -> float | None:
    """A Typer callback for an option in seconds where zero means "none": finite and not negative."""
    return _seconds(value, zero_ok=True)


def valid_endpoint_url(ctx: typer.Context, value: str | None) -> str | None:
    """A Typer callback: an AWS endpoint must be an http(s) URL (checked before anything starts).

    Not while completing a word: that would load boto3 (through `aws`) on every Tab.
    """
    if not value or ctx.resilient_parsing:
        return value
    from asyncmcp_cli.aws import check_endpoint_url

    try:
        return check_endpoint_url(value)
    except errors.ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None


LogLevel = Annotated[
    str,
    typer.Option(
        "--log-level",
        envvar="ASYNCMCP_LOG_LEVEL",
        help="Log level: debug, info, warning, error.",
        case_sensitive=False,
    ),
]


class LogFormat(str, Enum):
    rich = "rich"
    json = "json"


LogFormatOption = Annotated[
    LogFormat,
    typer.Option(
        "--log-format",
        envvar="ASYNCMCP_LOG_FORMAT",
        help="rich: readable lines for a terminal. json: one JSON object per line (time, level, message and, "
        "where known, client_id, request_id, method, queue, duration) for a log shipper.",
        case_sensitive=False,
    ),
]
MetricsOption = Annotated[
    str | None,
    typer.Option(
        "--metrics",
        metavar="HOST:PORT",
        envvar="ASYNCMCP_METRICS",
        help="Serve /healthz, /readyz and Prometheus /metrics on HOST:PORT (off by default). A host other than "
        "127.0.0.1 makes them reachable from other machines (what a scraper or probe in a cluster needs).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]

DEFAULT_CONNECT_TIMEOUT = 5.0
"""Seconds a one-shot command waits for the AWS endpoint's first answer before it exits 4."""

ConnectTimeout = Annotated[
    float,
    typer.Option(
        "--connect-timeout",
        envvar="ASYNCMCP_CONNECT_TIMEOUT",
        callback=seconds,
        help="Seconds to wait for the AWS endpoint to answer at all before exiting 4.",
    ),
]
