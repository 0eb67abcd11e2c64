"""Make moto's FIFO queues release a message group when its message is deleted, as SQS does.

moto (5.x) decides which FIFO message groups are busy once, when a long poll
starts, and keeps that snapshot for the whole poll. A group whose message was
in flight when the poll began stays blocked for that poll even after the
message is deleted. asyncmcp polls again as soon as a poll returns, so every
poll starts while the message it just received is still in flight:

- the server's next request-queue poll blocks the client's group, and the
  client's next request waits out that poll (``wait_seconds``, 20 s);
- the client's next reply-queue poll blocks its own group the same way.

So each FIFO call over the embedded endpoint took about 20 s (about 90 ms on
LocalStack, whose groups are live). Real SQS releases a group the moment its
in-flight message is deleted or made visible again.

`apply()` corrects the moto that the embedded endpoint runs (`local_aws`) by
replacing the queue's busy-group set with a live view: moto's poll still
takes its "snapshot" (a deep copy), but the copy asks the queue each time.
A second change keeps such a poll from spinning: while every visible message
belongs to a busy group, moto's wait returns at once and its loop would
spin on the interpreter lock for the rest of the poll; it now naps briefly
instead (a new message still wakes it at once).

Only moto's queue class is touched, and only when it has the shape this was
written against; otherwise nothing is changed and a debug line says so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)

BUSY_GROUP_NAP_SECONDS = 0.05
"""How long a FIFO long poll waits before looking again while every visible message is in a busy group."""

_applied = False
_lock = threading.Lock()


class LiveBusyGroups:
    """The message groups of a queue that have a message in flight, read at the moment of asking."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def _now(self) -> set[str]:
        return {message.group_id for message in list(self._queue.pending_messages) if message.group_id is not None}

    def __contains__(self, group_id: object) -> bool:
        return group_id in self._now()

    def __iter__(self) -> Iterator[str]:
        return iter(self._now())

    def __len__(self) -> int:
        return len(self._now())

    def __deepcopy__(self, memo: dict[int, Any]) -> LiveBusyGroups:
        return self  # moto copies the set to freeze it; the point is that it stays live


def apply() -> bool:
    """Correct moto's FIFO group handling in this process (idempotent); True if it is in effect."""
    global _applied
    with _lock:
        if _applied:
            return True
        try:
            from moto.sqs.models import Queue
        except ImportError:
            return False
        original_wait = getattr(Queue, "wait_for_messages", None)
        if not isinstance(getattr(Queue, "pending_message_groups", None), property) or original_wait is None:
            logger.debug("moto's SQS queue has another shape than expected; its FIFO groups are left as they are")
            return False

        def pending_message_groups(queue: Any) -> LiveBusyGroups:
            return LiveBusyGroups(queue)

        def wait_for_messages(queue: Any, timeout: int) -> None:
            lock = getattr(queue, "_messages_lock", None)
            if lock is None or not (queue.fifo_queue and queue.messages):
                original_wait(queue, timeout)
                return
            with lock:  # visible but all in busy groups: nap, woken early by a new message
                lock.wait(timeout=min(timeout, BUSY_GROUP_NAP_SECONDS))

        Queue.pending_message_groups = property(pending_message_groups)  # type: ignore[assignment]
        Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
        _applied = True
        return True


def main(argv: list[str] | None = None) -> None:
    """``python -m asyncmcp_cli.aws.moto_fifo [moto_server options]``: moto's server, corrected."""
    apply()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main()
