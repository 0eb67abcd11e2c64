"""Asking a server for its log messages: ``logging/setLevel`` in the handshake era.

A 2026-07-28 (stateless) client opts in on every request instead (the SDK
stamps the level into ``_meta`` from ``--server-log``), so a level cannot be
changed on such a connection: it is reported, not sent.
"""

from __future__ import annotations

import warnings
from typing import Any

from asyncmcp_cli.errors import UsageError

LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


def check_level(level: str) -> str:
    lowered = level.lower()
    if lowered not in LEVELS:
        raise UsageError(f"unknown log level {level!r}; choose one of {', '.join(LEVELS)}")
    return lowered


async def set_server_log_level(mcp: Any, level: str, *, explicit: bool) -> bool:
    """Send ``logging/setLevel`` if this connection is in the handshake era; True if sent.

    With `explicit` (a person asked), a server without the logging capability,
    or a stateless connection, is an error; otherwise it is quietly skipped.
    """
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    level = check_level(level)
    if mcp.protocol_version in MODERN_PROTOCOL_VERSIONS:
        if explicit:
            raise UsageError(
                f"this connection ({mcp.protocol_version}) asks for log messages with each request, at the level "
                "it was opened with: reconnect with --server-log LEVEL"
            )
        return False
    if getattr(mcp.server_capabilities, "logging", None) is None:
        if explicit:
            raise UsageError("the server does not offer logging (no logging capability)")
        return False
    with warnings.catch_warnings():  # "deprecated as of 2026-07-28": this connection speaks an earlier era
        warnings.simplefilter("ignore")
        await mcp.set_logging_level(level)
    return True
