"""The OpenTelemetry side of `asyncmcp_cli.tracing`; imported only when tracing is on.

Spans follow the OpenTelemetry messaging semantic conventions: a producer span
``send <destination>`` per message sent, a consumer span ``process
<destination>`` per message received, with ``messaging.system``,
``messaging.destination.name``, ``messaging.operation.type`` /
``messaging.operation.name`` and ``messaging.message.id``. A consumer span is a
child of the producer's context (one message, one process span) and also
links to it, as the conventions suggest.

The SDK already makes the MCP spans and carries their context in ``_meta``
(SEP-414); we continue those traces rather than start our own: a send's parent
is the context in the message's ``_meta`` (the SDK's client span), else the
current one; a processing span's parent is the ``traceparent`` attribute, else
``_meta``; and the request handed to the SDK names the processing span in its
``_meta``, so the SDK's server span nests under it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import mcp_types as types
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from asyncmcp_cli.protocol import codec
from asyncmcp_cli.tracing import TRACEPARENT, Destination, Hop, Processing

logger = logging.getLogger(__name__)

_tracer = trace.get_tracer("asyncmcp")
_w3c = TraceContextTextMapPropagator()
_MAX_CARRIER_VALUE = 512
"""Longer trace context values are not even parsed (a valid traceparent has 55 characters)."""


def flush(timeout_seconds: float) -> None:
    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if callable(force_flush):
        force_flush(int(timeout_seconds * 1000))


# -- sending ----------------------------------------------------------------------------------


class _TracedHop(Hop):
    def __init__(self, message: types.JSONRPCMessage, attributes: dict[str, str], span: trace.Span) -> None:
        super().__init__(message, attributes)
        self._span = span

    def sent(self, message_id: str | None) -> None:
        if message_id:
            self._span.set_attribute("messaging.message.id", message_id)


@contextmanager
def sending(destination: Destination, message: types.JSONRPCMessage) -> Iterator[Hop]:
    parent = _from_meta(message)
    if parent is None and not trace.get_current_span().get_span_context().is_valid:
        yield Hop(message)  # nothing to continue: a trace of one lone send tells nobody anything
        return
    with _tracer.start_as_current_span(
        f"send {destination.name}",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes=_attributes(destination, "send", message),
    ) as span:
        yield _TracedHop(_with_meta_context(message), _carrier_attributes(), span)


# -- processing -------------------------------------------------------------------------------


class _TracedProcessing(Processing):
    recording = True

    def __init__(self, message: types.JSONRPCMessage | Exception, span: trace.Span) -> None:
        super().__init__(message)
        self._span = span
        self._ended = False

    def attached(self) -> AbstractContextManager[None]:
        return _in_span(self._span)

    def end(self, outcome: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._span.set_attribute("asyncmcp.outcome", outcome)
        if outcome != "ack":
            self._span.set_status(StatusCode.ERROR, outcome)
        self._span.end()


def processing(
    destination: Destination,
    attributes: Mapping[str, str],
    message: types.JSONRPCMessage | Exception,
    message_id: str | None,
) -> Processing:
    decoded = None if isinstance(message, Exception) else message
    parent = _from_attributes(attributes) or (_from_meta(decoded) if decoded is not None else None)
    links = [Link(trace.get_current_span(parent).get_span_context())] if parent is not None else []
    span = _tracer.start_span(
        f"process {destination.name}",
        context=parent or otel_context.Context(),  # a message without trace context starts its own trace
        kind=SpanKind.CONSUMER,
        attributes=_attributes(destination, "process", decoded, message_id),
        links=links,
    )
    if isinstance(message, Exception):
        span.set_attribute("error.type", type(message).__qualname__)
        return _TracedProcessing(message, span)
    if codec.is_request(message):
        with _in_span(span):
            message = _with_meta_context(message)
    return _TracedProcessing(message, span)


@contextmanager
def consuming(destination: Destination, attributes: Mapping[str, str], message_id: str | None) -> Iterator[None]:
    parent = _from_attributes(attributes)
    if parent is None:
        yield
        return
    with _tracer.start_as_current_span(
        f"process {destination.name}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes=_attributes(destination, "process", None, message_id),
        links=[Link(trace.get_current_span(parent).get_span_context())],
    ):
        yield


# -- helpers ----------------------------------------------------------------------------------


@contextmanager
def _in_span(span: trace.Span) -> Iterator[None]:
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(token)


def _attributes(
    destination: Destination,
    operation: str,
    message: types.JSONRPCMessage | None,
    message_id: str | None = None,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "messaging.system": destination.system,
        "messaging.destination.name": destination.name,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
    }
    if message_id:
        attributes["messaging.message.id"] = message_id
    if message is not None:
        if method := codec.method_of(message):
            attributes["mcp.method.name"] = method
        if (rid := codec.request_id_of(message)) is not None:
            attributes["jsonrpc.request.id"] = str(rid)
    return attributes


def _carrier_attributes() -> dict[str, str]:
    """The current span's ``traceparent``, as a message attribute (tracestate stays in ``_meta``)."""
    carrier: dict[str, str] = {}
    _w3c.inject(carrier)
    return {TRACEPARENT: carrier[TRACEPARENT]} if TRACEPARENT in carrier else {}


def _with_meta_context(message: types.JSONRPCMessage) -> types.JSONRPCMessage:
    """`message` with the current trace context in its ``params._meta`` (requests and notifications only)."""
    params = getattr(message, "params", None)
    if not isinstance(message, (types.JSONRPCRequest, types.JSONRPCNotification)) or (
        params is not None and not isinstance(params, dict)
    ):
        return message
    meta = dict(codec.meta_of(message))
    for key in ("traceparent", "tracestate"):
        meta.pop(key, None)
    propagate.inject(meta)
    return message.model_copy(update={"params": {**(params or {}), "_meta": meta}})


def _from_attributes(attributes: Mapping[str, str]) -> otel_context.Context | None:
    value = attributes.get(TRACEPARENT)
    if not isinstance(value, str) or len(value) > _MAX_CARRIER_VALUE:
        return None
    return _valid(lambda: _w3c.extract({TRACEPARENT: value}))


def _from_meta(message: types.JSONRPCMessage) -> otel_context.Context | None:
    meta = codec.meta_of(message)
    carrier = {
        key: value
        for key, value in meta.items()
        if isinstance(key, str) and isinstance(value, str) and len(value) <= _MAX_CARRIER_VALUE
    }
    if TRACEPARENT not in carrier:
        return None
    return _valid(lambda: propagate.extract(carrier))


def _valid(extract: Any) -> otel_context.Context | None:
    """The extracted context if it names a valid span; None for anything malformed (never raises)."""
    try:
        context = extract()
    except Exception as exc:  # untrusted input: a propagator that chokes on it must not stop the message
        logger.debug("ignoring unreadable trace context: %s", exc)
        return None
    return context if trace.get_current_span(context).get_span_context().is_valid else None
