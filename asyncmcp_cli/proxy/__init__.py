"""Make a server behind an asynchronous transport usable by ordinary MCP clients.

Fronts (`http`: streamable HTTP; `stdio`: a desktop host's subprocess) are the
SDK's own server transports running one forwarding server (`forwarder`). Each
front client gets its own backend client identity (`lane`, `backend`): a
client id of its own on the transport, so the backend gives it its own SDK
session and its answers can never reach another client.

Names load on first use, so the stdio front can answer ``initialize``
(`early`, standard library only) before the SDK is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Backend": "asyncmcp_cli.proxy.backend",
    "proxy_server": "asyncmcp_cli.proxy.forwarder",
    "DEFAULT_LISTEN": "asyncmcp_cli.proxy.http",
    "HttpFrontOptions": "asyncmcp_cli.proxy.http",
    "http_front": "asyncmcp_cli.proxy.http",
    "serve_http": "asyncmcp_cli.proxy.http",
    "serve_http_until_signalled": "asyncmcp_cli.proxy.http",
    "serve_stdio": "asyncmcp_cli.proxy.stdio",
    "serve_streams": "asyncmcp_cli.proxy.stdio",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
