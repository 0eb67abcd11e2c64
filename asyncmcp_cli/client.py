"""Open an SDK client over any transport.

The SDK's `mcp.Client` speaks MCP; this only picks the protocol era and wires
the transport's stream pair into it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp_types.version import LATEST_MODERN_VERSION

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports.base import Transport

ERAS: dict[str, str] = {
    "stateless": LATEST_MODERN_VERSION,
    "handshake": "legacy",
    "auto": "auto",
}
"""Protocol eras by the name we document, mapped to `mcp.Client(mode=...)`.

`stateless` (2026-07-28: no handshake, every request self-describing) suits
queues best: any server instance can answer any request. `handshake` is the
2025-11-25 `initialize` era; `auto` asks the server with `server/discover`
and falls back to the handshake.
"""


@asynccontextmanager
async def open_client(
    transport: Transport,
    *,
    era: str = "stateless",
    client_id: str | None = None,
    timeout: float | None = None,
    **client_options: Any,
) -> AsyncIterator[Client]:
    if era not in ERAS:
        raise ConfigurationError(f"unknown protocol era {era!r}; choose one of {', '.join(ERAS)}")
    async with Client(
        transport.connect(client_id=client_id),
        mode=ERAS[era],
        read_timeout_seconds=timeout,
        **client_options,
    ) as client:
        yield client
