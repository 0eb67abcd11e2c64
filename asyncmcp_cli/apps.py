"""Load the MCP server to serve from an ``APP`` reference.

``APP`` is ``module:attr`` or ``path/to/file.py:attr``; ``attr`` names an
`MCPServer`, a low-level `Server`, or a zero-argument callable returning one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer

from asyncmcp_cli.errors import AppLoadError


def load_server(reference: str) -> Server[Any]:
    module_ref, sep, attr = reference.rpartition(":")
    if not sep or not module_ref or not attr:
        raise AppLoadError(f"APP must look like 'module:attr' or 'file.py:attr', got {reference!r}")
    module = _import(module_ref)
    try:
        target = getattr(module, attr)
    except AttributeError:
        raise AppLoadError(f"{module_ref!r} has no attribute {attr!r}") from None
    if callable(target) and not isinstance(target, (Server, MCPServer)):
        try:
            target = target()
        except Exception as exc:
            raise AppLoadError(f"{reference} is a callable, but calling it with no arguments failed: {exc}") from exc
    return as_lowlevel(target, reference)


def as_lowlevel(target: Any, reference: str = "APP") -> Server[Any]:
    if isinstance(target, MCPServer):
        # The SDK's own Client reaches the low-level server the same way.
        return target._lowlevel_server
    if isinstance(target, Server):
        return target
    raise AppLoadError(f"{reference} is a {type(target).__name__}, not an MCPServer or Server")


def _import(module_ref: str) -> Any:
    if module_ref.endswith(".py"):
        path = Path(module_ref)
        if not path.is_file():
            raise AppLoadError(f"no such file: {module_ref}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise AppLoadError(f"importing {module_ref} failed: {exc}") from exc
        return module
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        return importlib.import_module(module_ref)
    except ImportError as exc:
        raise AppLoadError(f"cannot import {module_ref!r}: {exc}") from exc
