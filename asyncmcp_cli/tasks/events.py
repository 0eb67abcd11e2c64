"""Who hears of a task's change in this process: the fan-out behind ``subscriptions/listen``.

The runtime publishes every record it writes; a listen stream subscribes for
the tasks it watches and wakes at once. Changes written by another process
(one sharing the store) do not pass through here: a stream finds those by
reading the store again now and then (`tasks.listening`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from asyncmcp_cli.tasks.record import TaskRecord

logger = logging.getLogger(__name__)

Listener = Callable[[TaskRecord], None]
"""Called on the event loop with each record written; must not block or raise."""


class TaskEvents:
    """In-process fan-out of written task records to listeners, in subscription order."""

    def __init__(self) -> None:
        self._listeners: dict[object, Listener] = {}

    def publish(self, record: TaskRecord) -> None:
        for listener in list(self._listeners.values()):
            try:
                listener(record)
            except Exception:  # one broken listener must not fail the write that published
                logger.exception("task event listener raised; continuing")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register `listener`; return the (idempotent) call that removes it."""
        token = object()
        self._listeners[token] = listener

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    @property
    def listeners(self) -> int:
        return len(self._listeners)
