"""What the commands share, under one name: output, exit codes, shared options, logging, transport options.

Each part lives in a module of its own (`output`, `failures`, `common_options`,
`diagnostics`, `transport_options`); the command modules import them from here.
None of them imports anything heavy at load (anyio, Rich's console or logging,
the SDK): help and completion go through them.
"""

from __future__ import annotations

from asyncmcp_cli.cli.common_options import (
    DEFAULT_CONNECT_TIMEOUT,
    ConnectTimeout,
    JsonFlag,
    LogFormat,
    LogFormatOption,
    LogLevel,
    MetricsOption,
    seconds,
    seconds_or_zero,
    valid_endpoint_url,
)
from asyncmcp_cli.cli.diagnostics import observing, setup_logging
from asyncmcp_cli.cli.failures import EXIT_CODES_HELP, ExitCode, describe_mcp_error, exit_code_for, fail, run
from asyncmcp_cli.cli.output import PIPE_WIDTH, console, counted, err_console, print_json
from asyncmcp_cli.cli.transport_options import TransportOptions, parse_key_values, with_transport_options

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "EXIT_CODES_HELP",
    "PIPE_WIDTH",
    "ConnectTimeout",
    "ExitCode",
    "JsonFlag",
    "LogFormat",
    "LogFormatOption",
    "LogLevel",
    "MetricsOption",
    "TransportOptions",
    "console",
    "counted",
    "describe_mcp_error",
    "err_console",
    "exit_code_for",
    "fail",
    "observing",
    "parse_key_values",
    "print_json",
    "run",
    "seconds",
    "seconds_or_zero",
    "setup_logging",
    "valid_endpoint_url",
    "with_transport_options",
]
