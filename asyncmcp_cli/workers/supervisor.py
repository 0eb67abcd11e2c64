"""Run N copies of one ``asyncmcp serve`` command and keep them running.

The queue is what spreads the work: every worker polls the same request
queue, each in its own process with its own event loop, and SQS hands each
message to one of them. The parent only supervises; it imports neither the
SDK nor boto3.

- Each worker is the same command line without ``--workers``, in a process
  group of its own (a Ctrl-C at the terminal reaches only the parent), with
  ``ASYNCMCP_WORKER_INDEX`` set (``--metrics`` adds it to the port).
- SIGTERM or SIGINT to the parent: every worker gets SIGTERM and shuts down
  gracefully (stops receiving, lets running requests finish within the grace
  period, leaves the rest on the queue); one still running after the grace
  period and a margin is killed.
- A worker that dies is restarted, after a pause that doubles while it keeps
  dying soon after starting (up to 30 s). One that exits with a usage or
  configuration error (exit 2 or 3) would only fail again: the parent stops
  the others and exits with that code.
- The workers share a result cache: unless one is configured (``-o
  result_cache=...`` or the profile's bucket), a SQLite file in a directory
  the parent creates and removes, so a request redelivered to another worker
  after one died is answered from it, not run again.
- A worker whose parent is gone (killed with SIGKILL) shuts itself down.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

WORKER_INDEX_ENV = "ASYNCMCP_WORKER_INDEX"
WORKER_RESULT_CACHE_ENV = "ASYNCMCP_WORKER_RESULT_CACHE"
WORKER_TASK_STORE_ENV = "ASYNCMCP_WORKER_TASK_STORE"
FATAL_EXIT_CODES = frozenset({2, 3})
"""Usage and configuration errors: restarting would fail the same way."""
FIRST_RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 30.0
STABLE_SECONDS = 30.0
"""A worker that ran this long before it died is restarted after the first delay again."""
KILL_MARGIN_SECONDS = 10.0
POLL_SECONDS = 0.2


def worker_index() -> int:
    """This process's index among the workers (0 when not started by a supervisor)."""
    try:
        return int(os.environ.get(WORKER_INDEX_ENV, "0"))
    except ValueError:
        return 0


def worker_argv(argv: Sequence[str]) -> list[str]:
    """`argv` without ``--workers N`` / ``--workers=N`` (options after a bare ``--`` are the upstream's)."""
    out: list[str] = []
    skip = False
    for position, arg in enumerate(argv):
        if arg == "--":
            return out + list(argv[position:])
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    started: float
    delay: float = FIRST_RESTART_DELAY
    restart_at: float | None = None


class Supervisor:
    def __init__(self, count: int, argv: Sequence[str], *, grace_seconds: float) -> None:
        self._count = count
        self._command = [sys.executable, "-m", "asyncmcp_cli", *worker_argv(argv)]
        self._grace = grace_seconds
        self._stop = threading.Event()
        self._workers: list[_Worker] = []
        self._env = dict(os.environ)

    def run(self) -> int:
        """Supervise until a signal (exit 0) or a worker's fatal error (its exit code)."""
        shared = tempfile.mkdtemp(prefix="asyncmcp-workers-")
        self._env[WORKER_RESULT_CACHE_ENV] = f"sqlite:///{os.path.join(shared, 'results.db')}"
        self._env[WORKER_TASK_STORE_ENV] = f"sqlite:///{os.path.join(shared, 'tasks.db')}"
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._workers = [self._start(index) for index in range(self._count)]
            code = self._watch()
            self._stop_all()
            return code
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            shutil.rmtree(shared, ignore_errors=True)

    def _on_signal(self, signum: int, frame: object) -> None:
        logger.info("received %s; stopping %d worker(s)", signal.Signals(signum).name, self._count)
        self._stop.set()

    def _start(self, index: int, delay: float = FIRST_RESTART_DELAY) -> _Worker:
        env = self._env | {WORKER_INDEX_ENV: str(index)}
        process = subprocess.Popen(self._command, env=env, start_new_session=True)
        logger.info("worker %d started (pid %d)", index, process.pid)
        return _Worker(index, process, time.monotonic(), delay)

    def _watch(self) -> int:
        while not self._stop.wait(POLL_SECONDS):
            now = time.monotonic()
            for slot, worker in enumerate(self._workers):
                if worker.restart_at is not None:
                    if now >= worker.restart_at:
                        self._workers[slot] = self._start(worker.index, worker.delay)
                    continue
                code = worker.process.poll()
                if code is None:
                    continue
                if code in FATAL_EXIT_CODES:
                    logger.error("worker %d exited with code %d (a usage or configuration error)", worker.index, code)
                    return code
                lived = now - worker.started
                delay = FIRST_RESTART_DELAY if lived > STABLE_SECONDS else worker.delay
                logger.warning(
                    "worker %d (pid %d) %s after %.1fs; restarting it in %.1fs",
                    worker.index,
                    worker.process.pid,
                    _how_it_ended(code),
                    lived,
                    delay,
                )
                worker.restart_at = now + delay
                worker.delay = min(delay * 2, MAX_RESTART_DELAY)
        return 0

    def _stop_all(self) -> None:
        running = [w.process for w in self._workers if w.restart_at is None and w.process.poll() is None]
        for process in running:
            _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + self._grace + KILL_MARGIN_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("worker pid %d did not stop within the grace period; killing it", process.pid)
                _signal(process, signal.SIGKILL)
                process.wait()


def _signal(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signum)


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def stop_with_parent() -> None:
    """In a worker: shut down gracefully (SIGTERM to itself) if the supervisor disappears."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="asyncmcp-parent-watch", daemon=True).start()


def supervise(count: int, argv: Sequence[str], *, grace_seconds: float) -> int:
    return Supervisor(count, argv, grace_seconds=grace_seconds).run()
