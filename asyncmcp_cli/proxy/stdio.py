"""The stdio front: a desktop host starts ``asyncmcp proxy --stdio`` as if it were the MCP server.

The SDK's `stdio_server` owns stdin and stdout (and points stray writes to
fd 1 at stderr while it runs, so nothing but MCP reaches the host); the SDK's
`serve_dual_era_loop` serves the forwarding server on it, in whichever era
the host opens with. The host is one client: one backend lane for its whole
session. The proxy exits when the host closes stdin.
"""

from __future__ import annotations

import logging

from mcp.server.runner import serve_dual_era_loop
from mcp.server.stdio import stdio_server

from asyncmcp_cli.proxy.backend import Backend
from asyncmcp_cli.proxy.forwarder import proxy_server
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.types import SessionReadStream, SessionWriteStream

logger = logging.getLogger(__name__)


async def serve_stdio(transport: Transport, *, call_timeout: float | None = 120.0) -> None:
    """Serve one host on this process's stdin/stdout until it closes stdin."""
    async with stdio_server() as (read_stream, write_stream):
        await serve_streams(transport, read_stream, write_stream, call_timeout=call_timeout)


async def serve_streams(
    transport: Transport,
    read_stream: SessionReadStream,
    write_stream: SessionWriteStream,
    *,
    call_timeout: float | None = 120.0,
) -> None:
    """Serve one front client on a stream pair (stdio, or any other duplex pipe)."""
    backend = Backend(transport)
    server = proxy_server(backend, call_timeout=call_timeout)
    async with backend.running(), server.lifespan(server) as lifespan_state:
        logger.info("proxying stdio to %s", transport.describe())
        await serve_dual_era_loop(
            server,
            read_stream,
            write_stream,
            lifespan_state=lifespan_state,
            init_options=server.create_initialization_options(),
        )
