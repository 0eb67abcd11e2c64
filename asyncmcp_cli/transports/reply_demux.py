"""Share one reply queue between the clients of one process.

Several clients may read the same named reply queue (each message names its
client id). If each of them long-polled it on its own, a reply would land with
whichever poll happened to be waiting; every other client would hide it again
and the owner would see it only after seconds of passing around. With twenty
clients in one process (a proxy with twenty front sessions) that makes a
50 ms round trip take tens of seconds.

So clients of one process that read the same queue share their polls:

- at most `POLLS_PER_QUEUE` of them poll at a time (the others wait for a slot,
  so a client leaving mid-poll simply hands its slot to the next);
- a message for another client *of this process* is handed straight to that
  client's inbox instead of being hidden;
- only messages for clients elsewhere (another process) are hidden and left
  for them, as before.

Hand-over never blocks the poller and never drops: when the owner's inbox is
full, the message goes back to the queue and is offered again shortly.

Scope is one event loop (tests run several loops in one process) and one
queue URL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from asyncmcp_cli.aws.sqs_queues import Received

logger = logging.getLogger(__name__)

POLLS_PER_QUEUE = 2
"""Concurrent receive calls on one reply queue per process."""

INBOX_SIZE = 64
"""Replies a client may have waiting before hand-over pushes back to the queue."""


@dataclass(eq=False)
class SharedReplies:
    """The clients of this process that read one reply queue."""

    slots: anyio.Semaphore = field(default_factory=lambda: anyio.Semaphore(POLLS_PER_QUEUE))
    inboxes: dict[str, MemoryObjectSendStream[Received]] = field(default_factory=dict)

    def hand_over(self, client_id: str, received: Received) -> bool:
        """Give a polled message to its owner if it is a client of this process; False if not taken."""
        inbox = self.inboxes.get(client_id)
        if inbox is None:
            return False
        try:
            inbox.send_nowait(received)
        except anyio.WouldBlock:
            logger.debug("inbox of client %s is full; its reply goes back to the queue for now", client_id)
            return False
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True


_shared: dict[tuple[object, str], SharedReplies] = {}


@asynccontextmanager
async def attached(
    reply_url: str, client_id: str
) -> AsyncIterator[tuple[SharedReplies, MemoryObjectReceiveStream[Received]]]:
    """Join the readers of `reply_url`; yields the shared state and this client's inbox."""
    key = (anyio.lowlevel.current_token(), reply_url)
    shared = _shared.setdefault(key, SharedReplies())
    inbox_in, inbox_out = anyio.create_memory_object_stream[Received](INBOX_SIZE)
    if client_id in shared.inboxes:
        logger.warning("two clients of this process read %s as client id %s", reply_url, client_id)
    shared.inboxes[client_id] = inbox_in
    try:
        yield shared, inbox_out
    finally:
        if shared.inboxes.get(client_id) is inbox_in:
            del shared.inboxes[client_id]
        if not shared.inboxes and _shared.get(key) is shared:
            del _shared[key]
        inbox_in.close()
        inbox_out.close()
