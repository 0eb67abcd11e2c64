"""MCP method names that more than one part of asyncmcp must agree on.

Plain strings, no SDK import: the metrics recorder needs them on every
message and must stay cheap to import.
"""

from __future__ import annotations

SERVER_FEATURE_REQUESTS = (
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
)
"""The spec requests a client sends for what a server offers (its tools, resources, prompts, completions, logging).

`serve` forwards exactly these to an upstream server (`asyncmcp_cli.upstream.server`),
and the metrics count each under its own name (`asyncmcp_cli.observability.recorder`).
"""
