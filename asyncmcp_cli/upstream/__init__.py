"""Serve an existing MCP server (a stdio command or a streamable HTTP URL) over an asynchronous transport.

The upstream server runs unchanged. One connection to it (`link`, kept alive
by `supervisor`) is shared by every queue client; the SDK server that `serve`
runs for each client (`server.UpstreamMirror`) hands their requests to it.
The SDK dispatcher on that connection mints upstream-side ids, so ids from
different clients never meet there (see `asyncmcp_cli.relay`).

    async with upstream_server(CommandTarget.of(["mcp-server-time"])) as server:
        await serve_until_signalled(server, SqsTransport())
"""

from asyncmcp_cli.upstream.server import UpstreamMirror, upstream_server
from asyncmcp_cli.upstream.target import CommandTarget, UpstreamTarget, UrlTarget

__all__ = ["CommandTarget", "UpstreamMirror", "UpstreamTarget", "UrlTarget", "upstream_server"]
