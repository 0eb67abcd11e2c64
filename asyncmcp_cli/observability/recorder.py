"""The events a server or proxy reports for metrics and readiness, without any dependency.

The hub, the queue listener, the reply sender and the webhook sender call
`current()` and report what happened; until a command installs a real
recorder (`asyncmcp_cli.observability.metrics`, for ``--metrics``) every
report goes to a `Recorder` that does nothing, so the hot path costs one
attribute lookup and a no-op call.

Method names come from whoever wrote to the queue: used as metric labels
as they are, a hostile client could create a new time series per message
until the process (and the scraper) runs out of memory. `method_label`
keeps the MCP methods the specification defines and folds everything else
into ``other``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from asyncmcp_cli.protocol.methods import SERVER_FEATURE_REQUESTS

OTHER = "other"

KNOWN_METHODS = frozenset(
    {
        # requests a client sends
        "initialize",
        "ping",
        *SERVER_FEATURE_REQUESTS,
        "server/discover",
        "tasks/get",
        "tasks/update",
        "tasks/cancel",
        "tasks/list",
        "tasks/result",
        # requests a server sends
        "sampling/createMessage",
        "elicitation/create",
        "roots/list",
        # notifications
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/message",
        "notifications/roots/list_changed",
        "notifications/tools/list_changed",
        "notifications/resources/list_changed",
        "notifications/resources/updated",
        "notifications/prompts/list_changed",
        "notifications/elicitation/complete",
        "notifications/tasks/status",
    }
)


def method_label(method: object) -> str:
    """A metric label for a method name read off a channel: a known MCP method, else ``other``."""
    return method if isinstance(method, str) and method in KNOWN_METHODS else OTHER


POLL_MARGIN_SECONDS = 15.0
"""How much longer than its long-poll wait a receive may take before the intake counts as stuck."""


class Intake:
    """Whether this process is taking work: for ``/readyz``.

    Ready once the server is listening, as long as the last receive from the
    endpoint succeeded, no receive has hung past its wait, and it is not
    shutting down.
    """

    def __init__(self) -> None:
        self._listening = False
        self._stopped = False
        self._failure: str | None = None
        self._poll_deadline: float | None = None

    def listening(self) -> None:
        self._listening = True

    def polling(self, wait_seconds: float) -> None:
        self._poll_deadline = time.monotonic() + wait_seconds + POLL_MARGIN_SECONDS

    def received(self) -> None:
        self._failure = None
        self._poll_deadline = None

    def failed(self, reason: str) -> None:
        self._failure = reason
        self._poll_deadline = None

    def stopped(self) -> None:
        self._stopped = True

    def problem(self) -> str | None:
        """Why this process is not ready, or None when it is."""
        if self._stopped:
            return "shutting down"
        if not self._listening:
            return "not listening yet"
        if self._failure is not None:
            return f"cannot receive: {self._failure}"
        if self._poll_deadline is not None and time.monotonic() > self._poll_deadline:
            return "a receive from the endpoint has not returned"
        return None


class Recorder:
    """Receives every report and keeps none of them: what runs when metrics are off.

    `method` arguments are raw method names (or None); implementations pass
    them through `method_label`.
    """

    def __init__(self) -> None:
        self.intake = Intake()

    def request_received(self, method: str | None) -> None:
        """A request was taken off the channel (a redelivery counts again)."""

    def request_answered(self, method: str | None, seconds: float | None, *, error: bool) -> None:
        """Its response was sent; `error` when the response is a JSON-RPC error."""

    def dead_lettered(self, method: str | None) -> None:
        """A message was moved to the dead letters (or dropped where there are none)."""

    def queue_age(self, seconds: float) -> None:
        """How long a received message waited on its queue."""

    def reply_retry(self) -> None:
        """A send of a reply failed and is tried again."""

    def webhook_delivered(self) -> None: ...

    def webhook_dead_lettered(self) -> None: ...

    def request_started(self) -> None:
        """One more request in flight (for senders that do not `watch_in_flight`)."""

    def request_ended(self) -> None: ...

    def watch_in_flight(self, count: Callable[[], int]) -> None:
        """Read the number of requests in flight from `count` when scraped."""


_current = Recorder()


def current() -> Recorder:
    return _current


def install(recorder: Recorder) -> Recorder:
    """Make `recorder` the one every report goes to; returns the previous one."""
    global _current
    previous, _current = _current, recorder
    return previous
