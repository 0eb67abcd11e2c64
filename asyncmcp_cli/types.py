"""Type aliases used across the package (aliases only, no behaviour)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage

SessionReadStream = ReadStream[SessionMessage | Exception]
SessionWriteStream = WriteStream[SessionMessage]
TransportStreams = tuple[SessionReadStream, SessionWriteStream]

Ack = Callable[[], Awaitable[None]]
"""Settles the channel message a request came in (e.g. deletes it from the queue)."""
