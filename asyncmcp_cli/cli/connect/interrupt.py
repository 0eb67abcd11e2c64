"""Ctrl-C cancels the request that is running, not the program.

While a request runs, SIGINT is taken over: it cancels the request's scope,
so the SDK sends the server a ``notifications/cancelled`` for it through the
still-open transport, and the caller gets `Interrupted` to report. The REPL
then carries on; a one-shot command exits 130.
"""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from asyncmcp_cli._groups import single_errors

T = TypeVar("T")


class Interrupted(Exception):
    """The user pressed Ctrl-C and the running request was cancelled."""


async def interruptible(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work`; a Ctrl-C while it runs cancels it and raises `Interrupted`."""
    outcome: list[T] = []
    interrupted = False

    with single_errors():  # the caller catches `UsageError`, not a group holding one
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                nonlocal interrupted
                with anyio.open_signal_receiver(signal.SIGINT) as signals:
                    async for _ in signals:
                        interrupted = True
                        tg.cancel_scope.cancel()
                        return

            async def run() -> None:
                outcome.append(await work())
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            tg.start_soon(run)
    if interrupted or not outcome:
        raise Interrupted
    return outcome[0]
