"""Unwrap task-group exception groups that hold a single error.

anyio wraps every error that crosses a task group in an ExceptionGroup. A
caller of `transport.connect()` that meets a missing queue should catch
`QueueNotFoundError`, not dig it out of a group.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup


def sole_exception(group: BaseExceptionGroup) -> BaseException:
    """The one error inside nested groups, or the group itself when there are several."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    return leaves[0] if len(leaves) == 1 else group


@contextmanager
def single_errors() -> Iterator[None]:
    """Re-raise a group holding one ordinary `Exception` as that exception."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaf = sole_exception(group)
        if leaf is group or not isinstance(leaf, Exception):
            raise
        raise leaf from None
