"""Look at MCP traffic on queues: decode, pair requests with responses, tail, redrive dead letters.

from asyncmcp_cli.inspect import TailOptions, tail

summary = await tail(settings, ["asyncmcp-requests", "asyncmcp-replies"], TailOptions(count=10), print)
"""

from __future__ import annotations

from asyncmcp_cli.inspect.addresses import PAIRED_ROLES, ROLES, queues_for
from asyncmcp_cli.inspect.decode import Observed, decode
from asyncmcp_cli.inspect.pairing import Pairer
from asyncmcp_cli.inspect.redrive import RedriveProgress, RedriveResult, redrive
from asyncmcp_cli.inspect.tail import QueueInfo, TailOptions, TailSummary, tail

__all__ = [
    "PAIRED_ROLES",
    "ROLES",
    "Observed",
    "Pairer",
    "QueueInfo",
    "RedriveProgress",
    "RedriveResult",
    "TailOptions",
    "TailSummary",
    "decode",
    "queues_for",
    "redrive",
    "tail",
]
