"""How long an answer waits on a reply queue for its client, and what happens to it after.

A reply queue may be shared, and an answer can outlive the client it is for:
the client exited (or was killed) mid-call, or nobody ever collected a
`--no-wait` call. Such an answer used to stay on the queue for good, received
again by every poll of every other reader, each poll slower than the last.

So every answer carries its own end:

- a client declares in each request how long its answers should wait for it
  (``REPLY_TTL``, seconds): short for a live session (`DEFAULT_LIVE_TTL`),
  long for a request fired to be collected later (`DEFAULT_KEEP_SECONDS`);
- the server clamps that to its own maximum (`DEFAULT_MAX_REPLY_TTL`; a
  request that declares nothing, or nonsense, gets the maximum) and stamps
  each message it sends to the reply address with ``EXPIRES_AT`` (epoch seconds);
- whoever reads the queue and meets another client's expired message deletes
  it (it is dead anyway); a client always takes its own messages, expired or
  not. A message for another client that is not yet expired is hidden for
  longer the older it is (`hide_seconds`), never past its expiry;
- the queue's retention period (set by `provision`) is the outer bound.

``EXPIRES_AT`` is read from a queue anyone with send rights can write to, so it
is parsed defensively. A malformed value counts as *no expiry*, not as expired:
deleting another client's message is irreversible, and only a well-formed stamp
in the past licenses it; a message without one is left to its owner, its
repeated receives make it hidden ever longer, `tail` counts it as orphaned, and
the queue's retention period removes it in the end. Messages from servers that
predate expiry carry no stamp and are treated the same way.
"""

from __future__ import annotations

import math
import time

REPLY_TTL = "asyncmcp-reply-ttl"
"""Request attribute: seconds the client's answers should wait for it after they are sent."""

EXPIRES_AT = "asyncmcp-expires-at"
"""Attribute of a message to a client: epoch seconds after which nobody will collect it."""

DEFAULT_LIVE_TTL = 120.0
"""What a live session declares: it reads its answers within moments, so two minutes is ample."""

DEFAULT_KEEP_SECONDS = 86400.0
"""What `call --no-wait` declares by default: a day to collect the answer."""

DEFAULT_MAX_REPLY_TTL = 86400.0
"""The server's ceiling on a declared TTL, and what it uses when a request declares none."""

MIN_REPLY_TTL = 1.0

REPLY_RETENTION_SECONDS = 2 * 86400
"""Retention period `provision` gives reply queues: the outer bound, above the default ceiling."""

ORPHAN_RECEIVE_COUNT = 10
"""`tail` counts a message received this many times as orphaned, expired or not."""

FIRST_HIDE_SECONDS = 1
MAX_HIDE_SECONDS = 60


def parse_seconds(text: object) -> float | None:
    """A finite, non-negative number of seconds from untrusted text; None when it is not one."""
    if not isinstance(text, str) or not text.strip() or len(text) > 32:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def declare(ttl: float) -> str:
    """The ``REPLY_TTL`` value a client sends: whole seconds, at least `MIN_REPLY_TTL`."""
    return str(max(math.ceil(MIN_REPLY_TTL), math.ceil(ttl)))


def granted_ttl(declared: float | None, ceiling: float = DEFAULT_MAX_REPLY_TTL) -> float:
    """The TTL a server grants: what the client declared, within [MIN_REPLY_TTL, ceiling]."""
    if declared is None:
        return ceiling
    return max(MIN_REPLY_TTL, min(declared, ceiling))


def stamp(ttl: float, now: float | None = None) -> str:
    """The ``EXPIRES_AT`` value for a message sent now that should wait `ttl` seconds."""
    return str(math.ceil((time.time() if now is None else now) + ttl))


def expires_at(attributes: dict[str, str]) -> float | None:
    """When a message expires, or None (no stamp, or a malformed one: see the module docstring)."""
    return parse_seconds(attributes.get(EXPIRES_AT))


def is_expired(attributes: dict[str, str], now: float | None = None) -> bool:
    end = expires_at(attributes)
    return end is not None and (time.time() if now is None else now) >= end


def hide_seconds(
    receive_count: int, attributes: dict[str, str], now: float | None = None, *, sent_at_ms: int | None = None
) -> int:
    """How long to hide another client's message that came back `receive_count` times.

    A fresh answer briefly (its owner, in another process, may be reading right
    now), then half its age (a live owner takes its answer within moments, so an
    old one has none), up to `MAX_HIDE_SECONDS`; never past its expiry, so that
    it is deleted soon after. When its age is unknown, twice as long each time
    it comes back. The age, not the count, decides when it is known: another
    process long-polling the same queue sees a live owner's answer again and
    again, and doubling each time hid it from its owner for a minute. Hiding
    orphans long matters: a queue returns the oldest messages first, and a
    reader that must walk past hundreds of them, each back after a second, may
    not reach its own answer at all.
    """
    now = time.time() if now is None else now
    if sent_at_ms is not None:
        # The age says it all: a young answer is hidden briefly however often another reader has seen it
        # (a reader polling all the time would otherwise push a live owner's answer away for a minute).
        age = max(0.0, now - sent_at_ms / 1000)
        seconds = min(MAX_HIDE_SECONDS, max(FIRST_HIDE_SECONDS, math.ceil(age / 2)))
    else:
        seconds = min(MAX_HIDE_SECONDS, FIRST_HIDE_SECONDS * 2 ** max(0, min(receive_count - 1, 10)))
    end = expires_at(attributes)
    if end is not None:
        seconds = min(seconds, max(0, math.ceil(end - now)))
    return int(seconds)


def is_orphaned(attributes: dict[str, str], receive_count: int, now: float | None = None) -> bool:
    """Expired, or received so often that no live client is taking it (for `tail`)."""
    return is_expired(attributes, now) or receive_count >= ORPHAN_RECEIVE_COUNT
