"""asyncmcp: MCP over asynchronous channels (SQS, SNS+SQS, webhooks).

The SDK (`mcp`) speaks the protocol; this package only moves its messages.
"""

from __future__ import annotations

from asyncmcp_cli.errors import AsyncMCPError

__version__ = "0.1.0"

__all__ = ["AsyncMCPError", "__version__"]
