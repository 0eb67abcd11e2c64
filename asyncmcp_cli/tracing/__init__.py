"""OpenTelemetry traces for every queue hop, when tracing is on; nothing at all when it is off.

Tracing is on when a real tracer provider is installed: by
`configure_from_environment` (the ``asyncmcp-cli[otel]`` extra plus the
standard ``OTEL_*`` variables), by ``opentelemetry-instrument``, by a Lambda
layer, or by the application. Otherwise every hook here returns a no-op at
the cost of a dictionary lookup, and nothing of the OpenTelemetry SDK, nor
`asyncmcp_cli.tracing.spans`, is imported.

One call makes one trace: the SDK's client span (``MCP send tools/call``)
→ ``send <request queue>`` (producer) → ``process <request queue>``
(consumer, on the server) → the SDK's server span (``tools/call NAME``) and
the tool's own spans → ``send <reply queue>`` (producer) → ``process <reply
queue>`` (consumer, on the client). Each hop carries its W3C trace context
twice: in the ``traceparent`` message attribute (what other SQS-aware tools
read) and, for requests, in ``params._meta`` (what MCP peers read, SEP-414),
rewritten at each hop so that the next span nests under this one. Trace
context from a message is untrusted: a malformed one is ignored.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mcp_types as types

TRACEPARENT = "traceparent"
"""The message attribute that carries the W3C trace context (one of SQS's ten attributes per message)."""

SQS = "aws_sqs"
SNS = "aws_sns"


@dataclass(frozen=True)
class Destination:
    """Where a hop goes, in the messaging semantic conventions' terms."""

    system: str
    name: str


def active() -> bool:
    """True when a real tracer provider is installed; imports nothing to find out."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return False
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def configure_from_environment(environ: Mapping[str, str] = os.environ) -> bool:
    """Install the OpenTelemetry SDK's tracer provider if the ``OTEL_*`` variables ask for traces.

    Asked for: ``OTEL_TRACES_EXPORTER`` names exporters (not ``none``), or an OTLP endpoint
    is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), and
    ``OTEL_SDK_DISABLED`` is not ``true``. Returns whether tracing is on. Without the
    ``otel`` extra, or when not asked for, it does nothing and imports nothing.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if exporters == "none" or not (exporters or endpoint):
        return active()
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        import logging

        logging.getLogger(__name__).warning(
            "OTEL_* variables ask for traces, but the OpenTelemetry SDK is not installed: "
            "pip install 'asyncmcp-cli[otel]'"
        )
        return False
    from asyncmcp_cli.tracing import setup

    return setup.install(environ)


def flush(timeout_seconds: float = 5.0) -> None:
    """Export the spans still buffered (before a Lambda container is frozen)."""
    if active():
        from asyncmcp_cli.tracing import spans

        spans.flush(timeout_seconds)


# -- hooks the transports call ---------------------------------------------------------------


@dataclass
class Hop:
    """An outgoing message: send `message` with `attributes` added, then report its message id."""

    message: types.JSONRPCMessage
    attributes: dict[str, str] = field(default_factory=dict)

    def sent(self, message_id: str | None) -> None:
        """Record the id the channel gave the message."""


@dataclass
class Processing:
    """An incoming message being processed; `message` may carry rewritten trace context."""

    message: types.JSONRPCMessage | Exception
    recording = False
    """True when there is a span to end (tracing is on)."""

    def attached(self) -> AbstractContextManager[None]:
        """Make this processing span current (its sends become its children)."""
        return nullcontext()

    def end(self, outcome: str) -> None:
        """Close the span: ``ack``, ``release`` or ``dead_letter``."""


def sending(destination: Destination | None, message: types.JSONRPCMessage) -> AbstractContextManager[Hop]:
    """A producer span around one send, when there is a trace to continue (the message's or the current one)."""
    if destination is None or not active():
        return nullcontext(Hop(message))
    from asyncmcp_cli.tracing import spans

    return spans.sending(destination, message)


def processing(
    destination: Destination | None,
    attributes: Mapping[str, str],
    message: types.JSONRPCMessage | Exception,
    message_id: str | None,
) -> Processing:
    """A consumer span for one received message, a child of the trace context it carries (if valid)."""
    if destination is None or not active():
        return Processing(message)
    from asyncmcp_cli.tracing import spans

    return spans.processing(destination, attributes, message, message_id)


@contextmanager
def attached(processing: Processing | None) -> Iterator[None]:
    """Run the block inside `processing`'s span, if there is one."""
    if processing is None:
        yield
        return
    with processing.attached():
        yield


def consuming(
    destination: Destination | None, attributes: Mapping[str, str], message_id: str | None
) -> AbstractContextManager[None]:
    """A consumer span around handing one received reply to the client session."""
    if destination is None or not active():
        return nullcontext()
    from asyncmcp_cli.tracing import spans

    return spans.consuming(destination, attributes, message_id)
