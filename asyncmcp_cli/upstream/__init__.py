"""Serve an existing MCP server (a stdio command or a streamable HTTP URL) over an asynchronous transport.

The upstream server runs unchanged. One connection to it (`link`, kept alive
by `supervisor`) is shared by the queue clients; a client that can receive
server requests (sampling, elicitation, roots) gets a connection of its own,
initialized with its capabilities (`sessions`). The SDK server that `serve`
runs for each client (`server.UpstreamMirror`) hands its requests to the
right one. The SDK dispatcher on a connection mints upstream-side ids, so ids
from different clients never meet there (see `asyncmcp_cli.protocol.relay`).

    async with upstream_server(CommandTarget.of(["mcp-server-time"])) as server:
        await serve_until_signalled(server, SqsTransport())
"""

from asyncmcp_cli.upstream.server import UpstreamMirror, upstream_server
from asyncmcp_cli.upstream.target import CommandTarget, UpstreamTarget, UrlTarget

__all__ = ["CommandTarget", "UpstreamMirror", "UpstreamTarget", "UrlTarget", "upstream_server"]
