"""Install the OpenTelemetry SDK's tracer provider from the ``OTEL_*`` variables.

Imported only by `asyncmcp_cli.tracing.configure_from_environment`, once the
variables ask for traces and the ``otel`` extra is installed. The SDK reads
most variables itself (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_TRACES_SAMPLER``, the exporter's ``OTEL_EXPORTER_OTLP_*``); this picks
the exporters ``OTEL_TRACES_EXPORTER`` names (default ``otlp``) through their
``opentelemetry_traces_exporter`` entry points, as ``opentelemetry-instrument``
does. A provider someone else installed (``opentelemetry-instrument``, a
Lambda layer, the application) is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import entry_points

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

logger = logging.getLogger(__name__)

DEFAULT_SERVICE_NAME = "asyncmcp"


def install(environ: Mapping[str, str]) -> bool:
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return True  # configured already, by whoever came first
    attributes = {}
    if not environ.get("OTEL_SERVICE_NAME") and "service.name=" not in environ.get("OTEL_RESOURCE_ATTRIBUTES", ""):
        attributes["service.name"] = DEFAULT_SERVICE_NAME
    provider = TracerProvider(resource=Resource.create(attributes))
    names = [n.strip() for n in (environ.get("OTEL_TRACES_EXPORTER") or "otlp").lower().split(",") if n.strip()]
    for name in names:
        exporter = _exporter(_entry_point_name(name, environ))
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    logger.debug("OpenTelemetry traces on, exporting with %s", ", ".join(names))
    return True


def _entry_point_name(name: str, environ: Mapping[str, str]) -> str:
    """``otlp`` means the OTLP exporter for the configured protocol (http/protobuf unless grpc is asked for)."""
    if name != "otlp":
        return name
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    return "otlp_proto_grpc" if protocol.strip().lower() == "grpc" else "otlp_proto_http"


def _exporter(name: str):  # type: ignore[no-untyped-def]
    found = [e for e in entry_points(group="opentelemetry_traces_exporter") if e.name == name]
    if not found:
        logger.warning("OTEL_TRACES_EXPORTER: no span exporter %r is installed; its spans are not exported", name)
        return None
    try:
        return found[0].load()()
    except Exception as exc:  # a broken exporter must not stop the server: it runs without it
        logger.warning("could not start span exporter %r: %s", name, exc)
        return None
