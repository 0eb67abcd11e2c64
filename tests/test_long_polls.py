from __future__ import annotations

import threading

import anyio
import pytest

from asyncmcp_cli.aws import long_polls
from asyncmcp_cli.aws.long_polls import DaemonThreads, join_abandoned, run_abandonable
from tests.conftest import wait_until

pytestmark = pytest.mark.anyio


async def test_calls_return_their_result_and_raise_their_errors() -> None:
    assert await run_abandonable(lambda: 42) == 42

    def broken() -> None:
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        await run_abandonable(broken)


async def test_a_worker_is_reused_once_it_is_idle() -> None:
    pool = DaemonThreads("test-reuse")
    names: list[int] = []
    for _ in range(5):
        done = threading.Event()

        def job(done: threading.Event = done) -> None:
            names.append(threading.get_ident())
            done.set()

        pool.submit(job)
        assert done.wait(5)
        await wait_until(lambda: pool.idle_workers == 1)
    assert len(set(names)) == 1


async def test_busy_workers_do_not_hold_up_new_jobs() -> None:
    pool = DaemonThreads("test-busy")
    release, second_ran = threading.Event(), threading.Event()
    pool.submit(lambda: release.wait(5))
    pool.submit(second_ran.set)
    assert second_ran.wait(5)
    release.set()


async def test_a_cancelled_caller_leaves_at_once_and_the_late_result_is_handed_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(long_polls, "_abandoned", set())  # only this test's calls, not other tests' polls
    release = threading.Event()
    handed_back: list[str] = []
    back = threading.Event()

    def on_abandoned(result: str) -> None:
        handed_back.append(result)
        back.set()

    with anyio.fail_after(5):
        with anyio.move_on_after(0.1) as scope:
            await run_abandonable(lambda: release.wait(5) and "late", on_abandoned)
    assert scope.cancelled_caught
    assert not back.is_set()
    assert join_abandoned(0) == 1  # still running
    release.set()
    assert await anyio.to_thread.run_sync(join_abandoned, 5.0) == 0
    assert back.is_set()
    assert handed_back == ["late"]
