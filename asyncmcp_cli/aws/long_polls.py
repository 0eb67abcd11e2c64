"""Run blocking calls that a cancelled caller may walk away from (long polls) on reusable daemon threads.

An SQS long poll blocks a thread for up to 20 s. When its caller is
cancelled (shutdown, a client leaving), the caller returns at once and the
poll finishes in the background; whatever it still receives is handed to an
`on_abandoned` callback (to give messages back). The threads are daemon
threads so that process exit never waits for a poll, and they are reused
rather than started anew for every poll (two per call), which spent event-loop
time on thread start-up.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel

logger = logging.getLogger(__name__)

T = TypeVar("T")

IDLE_SECONDS = 60.0
"""A worker with nothing to do for this long exits."""


class DaemonThreads:
    """A grow-on-demand pool of daemon threads; an idle worker is reused before a new one starts."""

    def __init__(self, name: str, idle_seconds: float = IDLE_SECONDS) -> None:
        self._name = name
        self._idle_seconds = idle_seconds
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    @property
    def idle_workers(self) -> int:
        return self._idle

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            reuse = self._idle > 0
            if reuse:
                self._idle -= 1  # reserved: that worker will take this job
        self._jobs.put(job)
        if not reuse:
            threading.Thread(target=self._work, name=self._name, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # not reserved by a submit in the meantime
                        self._idle -= 1
                        return
                continue
            try:
                job()
            except BaseException:  # jobs catch their own errors; never lose the worker silently
                logger.exception("a background call failed")
            with self._lock:
                self._idle += 1


_threads = DaemonThreads("asyncmcp-long-poll")
_abandoned: set[threading.Event] = set()
_abandoned_lock = threading.Lock()


async def run_abandonable(job: Callable[[], T], on_abandoned: Callable[[T], None] | None = None) -> T:
    """Run `job` on a daemon thread; if the caller is cancelled, leave it running.

    A result that arrives after the caller has gone goes to `on_abandoned`
    (on the worker thread). Exceptions of `job` are raised to the caller.
    """
    done = anyio.Event()
    token = anyio.lowlevel.current_token()
    lock = threading.Lock()
    outcome: list[tuple[bool, Any]] = []
    finished = threading.Event()
    abandoned = False

    def hand_back(result: Any) -> None:
        if on_abandoned is not None:
            with contextlib.suppress(Exception):
                on_abandoned(result)

    def work() -> None:
        try:
            result: tuple[bool, Any] = (True, job())
        except BaseException as exc:
            result = (False, exc)
        with lock:
            left_behind = abandoned
            if not left_behind:
                outcome.append(result)
        if left_behind:
            if result[0]:
                hand_back(result[1])
            finished.set()
            with _abandoned_lock:
                _abandoned.discard(finished)
            return
        finished.set()
        with contextlib.suppress(RuntimeError):  # the event loop may be gone by now
            anyio.from_thread.run_sync(done.set, token=token)

    _threads.submit(work)
    try:
        await done.wait()
    except BaseException:
        with lock:
            abandoned = True
            returned = list(outcome)
        if returned and returned[0][0]:
            _threads.submit(lambda: hand_back(returned[0][1]))
        elif not returned:
            with _abandoned_lock:
                if not finished.is_set():
                    _abandoned.add(finished)
        raise
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def join_abandoned(timeout: float) -> int:
    """Wait up to `timeout` s for abandoned calls to return (and hand back what they got).

    Called on shutdown: a long poll still pending when the process exits would
    hide whatever it receives for a whole visibility timeout. Returns how many
    are still pending.
    """
    deadline = time.monotonic() + timeout
    with _abandoned_lock:
        pending = list(_abandoned)
    for finished in pending:
        finished.wait(max(0.0, deadline - time.monotonic()))
    with _abandoned_lock:
        _abandoned.difference_update(f for f in pending if f.is_set())
        return len(_abandoned)
