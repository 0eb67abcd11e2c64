"""The built-in transports by name, and every name a user can give (built-in and installed).

Kept apart from `registry` (which imports the transport base classes, and
through them the SDK) so that ``--help`` and shell completion can list the
transports without loading anything.
"""

from __future__ import annotations

BUILTIN: dict[str, str] = {
    "memory": "asyncmcp_cli.transports.memory:MemoryTransport",
    "sqs": "asyncmcp_cli.transports.sqs:SqsTransport",
    "webhook": "asyncmcp_cli.transports.webhook.transport:WebhookTransport",
    "http+webhook": "asyncmcp_cli.transports.http_webhook.transport:HttpWebhookTransport",
    "sns+sqs": "asyncmcp_cli.transports.sns:SnsSqsTransport",
}
"""Name -> ``module:attr`` of the transport class, imported only when used."""

ENTRY_POINT_GROUP = "asyncmcp.transports"


def installed() -> dict[str, str]:
    """Transports third-party packages declare as ``asyncmcp.transports`` entry points."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def all_names() -> list[str]:
    """Every transport name: built in, then installed (for completion)."""
    return list(BUILTIN) + sorted(set(installed()) - set(BUILTIN))
