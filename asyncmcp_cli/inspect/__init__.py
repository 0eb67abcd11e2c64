"""Look at MCP traffic on queues: decode, pair requests with responses, tail, redrive dead letters.

from asyncmcp_cli.inspect import TailOptions, tail

summary = await tail(settings, ["asyncmcp-requests", "asyncmcp-replies"], TailOptions(count=10), print)
summary = await follow_tap(settings, "asyncmcp-tap", TailOptions(follow=True, count=10), print)  # touches no live queue
"""

from __future__ import annotations

from asyncmcp_cli.inspect.addresses import PAIRED_ROLES, ROLES, queues_for
from asyncmcp_cli.inspect.decode import Observed, decode
from asyncmcp_cli.inspect.pairing import Pairer
from asyncmcp_cli.inspect.redrive import RedriveProgress, RedriveResult, redrive
from asyncmcp_cli.inspect.tail import QueueInfo, TailOptions, TailSummary, tail
from asyncmcp_cli.inspect.tap_follow import follow_tap

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
    "follow_tap",
    "queues_for",
    "redrive",
    "tail",
]
