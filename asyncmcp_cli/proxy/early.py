"""The stdio front's own answer to ``initialize``, given before the SDK or the backend is loaded.

A desktop host (or the MCP Inspector) starts ``asyncmcp proxy --stdio`` and
gives up if ``initialize`` is not answered within its connect timeout (15 s
for the Inspector). Forwarding it meant importing the SDK (over a second of
CPU by itself) and then a round trip to the backend over the queue, which on
a busy machine took ten seconds. So the stdio front answers ``initialize``
itself, at once, with what the proxy knows: the protocol version, the
capabilities a proxied server may have, the proxy's own name. This module
uses the standard library only, so the answer goes out while the rest loads.
The backend gets the host's own ``initialize`` when its lane opens (`backend`).

The answer is the backend's own identity (its ``serverInfo``, capabilities
and instructions) as remembered from the last time this proxy configuration
reached it, kept in ``$XDG_STATE_HOME/asyncmcp/proxy-identity/``. The first
time, or when what was kept is unreadable, it is the proxy's: its own name and
the capabilities a proxied server may have (tools, resources, prompts,
completions, logging); a method the backend does not serve then gets the
backend's own "Method not found" error, as it would without the proxy. A
backend that changes its identity is answered with the new one from the next
start on.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from asyncmcp_cli import __version__

logger = logging.getLogger(__name__)

HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""The handshake-era versions the SDK serves (a test keeps these equal to the SDK's own)."""
LATEST_HANDSHAKE_VERSION = HANDSHAKE_VERSIONS[-1]

PROXY_NAME = "asyncmcp-proxy"
CAPABILITIES: dict[str, Any] = {
    "tools": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True},
    "prompts": {"listChanged": True},
    "completions": {},
    "logging": {},
}


IDENTITY_LIMIT = 64 * 1024
"""Largest remembered identity read back, in bytes."""


def initialize_result(params: Mapping[str, Any], identity: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `InitializeResult` for a host's ``initialize`` params (the version negotiated as the SDK does)."""
    requested = params.get("protocolVersion")
    version = requested if requested in HANDSHAKE_VERSIONS else LATEST_HANDSHAKE_VERSION
    result: dict[str, Any] = {"capabilities": CAPABILITIES, "serverInfo": {"name": PROXY_NAME, "version": __version__}}
    return {"protocolVersion": version} | result | dict(identity or {})


def identity_of(result: Any) -> dict[str, Any] | None:
    """The parts of a server's `InitializeResult` worth remembering, if they are well-formed."""
    if not isinstance(result, Mapping):
        return None
    info, capabilities, instructions = result.get("serverInfo"), result.get("capabilities"), result.get("instructions")
    if not (isinstance(info, Mapping) and isinstance(info.get("name"), str) and isinstance(info.get("version"), str)):
        return None
    if not isinstance(capabilities, Mapping) or not (instructions is None or isinstance(instructions, str)):
        return None
    identity = {"serverInfo": dict(info), "capabilities": dict(capabilities)}
    return identity | ({"instructions": instructions} if instructions is not None else {})


def identity_path(key: str) -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "asyncmcp" / "proxy-identity" / f"{key}.json"


def load_identity(key: str) -> dict[str, Any] | None:
    """The backend identity remembered under `key`; None if there is none, or it is too large or malformed."""
    path = identity_path(key)
    try:
        if path.stat().st_size > IDENTITY_LIMIT:
            return None
        return identity_of(json.loads(path.read_bytes()))
    except (OSError, ValueError):
        return None


def save_identity(key: str, identity: Mapping[str, Any]) -> None:
    """Remember a backend's identity under `key` (written whole, then moved into place)."""
    path = identity_path(key)
    text = json.dumps(identity, separators=(",", ":"))
    if len(text) > IDENTITY_LIMIT:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        logger.debug("could not remember the backend's identity in %s: %s", path, exc)


@dataclass(frozen=True)
class FirstLine:
    """The host's first line on stdin, and the id of the ``initialize`` answered from it, if it was one."""

    line: bytes
    answered_id: str | int | None = None


def answer_initialize(stdin: IO[bytes], stdout: IO[bytes], identity: Mapping[str, Any] | None = None) -> FirstLine:
    """Read the host's first line; if it is a well-formed ``initialize`` request, answer it on `stdout`.

    Anything else (a 2026-07-28 request, a notification, bad JSON, end of
    input) is left unanswered for the SDK, which reads the line again.
    """
    line = stdin.readline()
    request = _initialize_request(line)
    if request is None:
        return FirstLine(line)
    answer = {"jsonrpc": "2.0", "id": request["id"], "result": initialize_result(request["params"], identity)}
    stdout.write(json.dumps(answer, separators=(",", ":")).encode() + b"\n")
    stdout.flush()
    logger.debug("answered initialize %r", request["id"])
    return FirstLine(line, request["id"])


def _initialize_request(line: bytes) -> dict[str, Any] | None:
    """The request if `line` is an ``initialize`` with the params the SDK requires, else None."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or message.get("method") != "initialize":
        return None
    rid, params = message.get("id"), message.get("params")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or not isinstance(params, dict):
        return None
    client = params.get("clientInfo")
    well_formed = (
        isinstance(params.get("protocolVersion"), str)
        and isinstance(params.get("capabilities"), dict)
        and isinstance(client, dict)
        and isinstance(client.get("name"), str)
        and isinstance(client.get("version"), str)
    )
    return message if well_formed else None
