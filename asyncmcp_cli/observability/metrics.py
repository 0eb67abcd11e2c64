"""Prometheus metrics for ``serve --metrics`` and ``proxy --metrics`` (the only module that imports
``prometheus_client``).

Every series has a ``transport`` label (the scheme this process serves or
reaches: ``sqs``, ``sns+sqs``, ...); per-request series also have a
``method`` label, bounded by `recorder.method_label`. Each process keeps its
own registry and serves it itself: several worker processes are several
scrape targets (``serve --workers`` gives each its own port), so no
multiprocess mode and no shared directory are needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

from asyncmcp_cli.observability.recorder import Recorder, method_label

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)
QUEUE_AGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400)


class PrometheusRecorder(Recorder):
    """A `Recorder` that counts into its own Prometheus registry."""

    def __init__(self, transport: str) -> None:
        super().__init__()
        self.transport = transport
        self.registry = registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=registry)
        platform_collector.PlatformCollector(registry=registry)
        gc_collector.GCCollector(registry=registry)
        by_method = ("transport", "method")
        self._received = Counter(
            "asyncmcp_requests_received",
            "Requests taken off the channel (redeliveries count again).",
            by_method,
            registry=registry,
        )
        self._answered = Counter(
            "asyncmcp_requests_answered",
            "Requests whose response was sent (results and errors).",
            by_method,
            registry=registry,
        )
        self._failed = Counter(
            "asyncmcp_requests_failed", "Requests answered with a JSON-RPC error.", by_method, registry=registry
        )
        self._dead = Counter(
            "asyncmcp_requests_dead_lettered", "Messages moved to the dead letters.", by_method, registry=registry
        )
        self._duration = Histogram(
            "asyncmcp_request_duration_seconds",
            "From receiving a request to sending its response.",
            by_method,
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._queue_age = Histogram(
            "asyncmcp_queue_age_seconds",
            "How long a received message waited on its queue (SQS SentTimestamp).",
            ("transport",),
            buckets=QUEUE_AGE_BUCKETS,
            registry=registry,
        )
        self._retries = Counter(
            "asyncmcp_reply_send_retries",
            "Reply sends that failed and were tried again.",
            ("transport",),
            registry=registry,
        )
        self._webhooks = Counter(
            "asyncmcp_webhook_deliveries", "Webhook POSTs the receiver accepted.", ("transport",), registry=registry
        )
        self._webhook_dead = Counter(
            "asyncmcp_webhook_dead_letters",
            "Webhook messages not delivered, kept in the dead-letter file.",
            ("transport",),
            registry=registry,
        )
        in_flight = Gauge(
            "asyncmcp_requests_in_flight", "Requests received and not yet answered.", ("transport",), registry=registry
        )
        self._watched: list[Callable[[], int]] = []
        self._started = 0
        self._lock = threading.Lock()
        in_flight.labels(transport).set_function(self._in_flight)
        for metric in (self._retries, self._webhooks, self._webhook_dead):
            metric.labels(transport)  # present (at zero) from the first scrape

    def _in_flight(self) -> float:
        return float(self._started + sum(count() for count in self._watched))

    def request_received(self, method: str | None) -> None:
        self._received.labels(self.transport, method_label(method)).inc()

    def request_answered(self, method: str | None, seconds: float | None, *, error: bool) -> None:
        label = method_label(method)
        self._answered.labels(self.transport, label).inc()
        if error:
            self._failed.labels(self.transport, label).inc()
        if seconds is not None:
            self._duration.labels(self.transport, label).observe(seconds)

    def dead_lettered(self, method: str | None) -> None:
        self._dead.labels(self.transport, method_label(method)).inc()

    def queue_age(self, seconds: float) -> None:
        self._queue_age.labels(self.transport).observe(max(0.0, seconds))

    def reply_retry(self) -> None:
        self._retries.labels(self.transport).inc()

    def webhook_delivered(self) -> None:
        self._webhooks.labels(self.transport).inc()

    def webhook_dead_lettered(self) -> None:
        self._webhook_dead.labels(self.transport).inc()

    def request_started(self) -> None:
        with self._lock:
            self._started += 1

    def request_ended(self) -> None:
        with self._lock:
            self._started -= 1

    def watch_in_flight(self, count: Callable[[], int]) -> None:
        self._watched.append(count)

    def exposition(self) -> tuple[bytes, str]:
        """(body, content type) of a scrape."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
