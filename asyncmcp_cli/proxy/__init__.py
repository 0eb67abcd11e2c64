"""Make a server behind an asynchronous transport usable by ordinary MCP clients.

Fronts (`http`: streamable HTTP; `stdio`: a desktop host's subprocess) are the
SDK's own server transports running one forwarding server (`forwarder`). Each
front client gets its own backend client identity (`lane`, `backend`): a
client id of its own on the transport, so the backend gives it its own SDK
session and its answers can never reach another client.
"""

from asyncmcp_cli.proxy.backend import Backend
from asyncmcp_cli.proxy.forwarder import proxy_server
from asyncmcp_cli.proxy.http import (
    DEFAULT_LISTEN,
    HttpFrontOptions,
    http_front,
    serve_http,
    serve_http_until_signalled,
)
from asyncmcp_cli.proxy.stdio import serve_stdio, serve_streams

__all__ = [
    "DEFAULT_LISTEN",
    "Backend",
    "HttpFrontOptions",
    "http_front",
    "proxy_server",
    "serve_http",
    "serve_http_until_signalled",
    "serve_stdio",
    "serve_streams",
]
