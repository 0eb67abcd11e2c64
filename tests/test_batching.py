from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from asyncmcp_cli.aws.batching import Batcher, BatcherPool, company_expected
from asyncmcp_cli.errors import TransportError

pytestmark = pytest.mark.anyio


class Recorder:
    """A flush function that records its batches and can be held open."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = anyio.Event()
        self.hold = False

    async def flush(self, items: Sequence[int]) -> list[int | Exception]:
        self.batches.append(list(items))
        if self.hold:
            await self.release.wait()
        return [ValueError(f"odd {i}") if i == 13 else i * 10 for i in items]


async def test_a_lone_item_is_sent_at_once() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.flush)
    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)
        assert await batcher.submit(1) == 10
        tg.cancel_scope.cancel()
    assert recorder.batches == [[1]]


async def test_items_waiting_behind_a_busy_sender_go_out_together() -> None:
    recorder = Recorder()
    recorder.hold = True
    batcher = Batcher(recorder.flush, size=10, concurrency=1)
    results: dict[int, int] = {}
    all_done = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)

        async def submit(i: int) -> None:
            results[i] = await batcher.submit(i)
            if len(results) == 13:
                all_done.set()

        tg.start_soon(submit, 0)
        await anyio.wait_all_tasks_blocked()
        for i in range(1, 13):
            tg.start_soon(submit, i)
        await anyio.wait_all_tasks_blocked()
        recorder.release.set()
        with anyio.fail_after(5):
            await all_done.wait()
        tg.cancel_scope.cancel()
    assert recorder.batches == [[0], list(range(1, 11)), [11, 12]]
    assert results == {i: i * 10 for i in range(13)}


async def test_a_failed_entry_fails_only_its_caller() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.flush)
    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)
        with pytest.raises(ValueError, match="odd 13"):
            await batcher.submit(13)
        assert await batcher.submit(2) == 20
        tg.cancel_scope.cancel()


async def test_weight_limit_splits_batches() -> None:
    recorder = Recorder()
    recorder.hold = True
    batcher = Batcher(recorder.flush, max_weight=10, weigh=lambda i: 4, concurrency=1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)
        for i in range(5):
            tg.start_soon(batcher.submit, i)
        await anyio.wait_all_tasks_blocked()
        recorder.release.set()
        await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    assert [len(batch) for batch in recorder.batches] == [2, 2, 1]  # 4 + 4 fits in 10; a third does not


async def test_callers_are_not_left_hanging_when_the_sender_stops() -> None:
    recorder = Recorder()
    recorder.hold = True
    batcher = Batcher(recorder.flush, concurrency=1)
    errors: list[Exception] = []
    async with anyio.create_task_group() as outer, anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)

        async def submit(i: int) -> None:
            try:
                await batcher.submit(i)
            except TransportError as exc:
                errors.append(exc)

        outer.start_soon(submit, 1)
        outer.start_soon(submit, 2)
        await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    assert len(errors) == 2
    with pytest.raises(TransportError, match="closed"):
        await batcher.submit(3)


async def test_a_lingering_batch_waits_for_company() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.flush, linger=0.5)
    results: list[int] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)

        async def submit(i: int) -> None:
            results.append(await batcher.submit(i))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as callers:
                callers.start_soon(submit, 1)
                await anyio.wait_all_tasks_blocked()  # the first item is lingering now
                callers.start_soon(submit, 2)
        tg.cancel_scope.cancel()
    assert recorder.batches == [[1, 2]]
    assert sorted(results) == [10, 20]


async def test_a_full_batch_does_not_linger() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.flush, size=3, linger=30)
    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)
        with anyio.fail_after(5):  # a linger of 30 s would trip this
            async with anyio.create_task_group() as callers:
                for i in range(3):
                    callers.start_soon(batcher.submit, i)
        tg.cancel_scope.cancel()
    assert recorder.batches == [[0, 1, 2]]


async def test_leaving_the_pool_sends_what_lingers() -> None:
    recorder = Recorder()
    pool = BatcherPool("test")
    sent: list[int] = []
    with anyio.fail_after(5):  # a linger of 30 s would trip this
        async with anyio.create_task_group() as callers, pool.running():
            batcher = pool.get("key", lambda: Batcher(recorder.flush, linger=30))

            async def submit(i: int) -> None:
                sent.append(await batcher.submit(i))

            callers.start_soon(submit, 1)
            callers.start_soon(submit, 2)
            await anyio.wait_all_tasks_blocked()
            assert recorder.batches == []
    assert recorder.batches == [[1, 2]]
    assert sorted(sent) == [10, 20]


async def test_a_lone_item_goes_out_in_its_callers_task_when_a_slot_is_free() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.flush, concurrency=2)
    # run() is not even running: with a free slot and nothing queued, nothing needs it
    with anyio.fail_after(5):
        assert await batcher.submit(4) == 40
    assert recorder.batches == [[4]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_items_arriving_close_together_wait_to_share_a_batch() -> None:
    recorder = Recorder()
    clock = FakeClock()
    batcher = Batcher(recorder.flush, size=3, busy_linger=30, clock=clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)
        with anyio.fail_after(5):  # a 30 s linger on a full batch would trip this
            assert await batcher.submit(1) == 10  # the first of a burst: nothing came before it, sent alone
            async with anyio.create_task_group() as callers:
                for i in (2, 3, 4):
                    clock.now += 0.001  # each close behind the one before
                    callers.start_soon(batcher.submit, i)
                    await anyio.wait_all_tasks_blocked()
                    if i < 4:
                        assert recorder.batches == [[1]]  # still waiting for company
        tg.cancel_scope.cancel()
    assert recorder.batches == [[1], [2, 3, 4]]


async def test_a_lone_item_after_a_quiet_spell_is_not_held_back() -> None:
    recorder = Recorder()
    clock = FakeClock()
    batcher = Batcher(recorder.flush, busy_linger=30, clock=clock)
    # run() is not running, so nothing could linger: each item must go out in its caller's task
    with anyio.fail_after(5):
        assert await batcher.submit(1) == 10
        clock.now += 31  # longer than the busy linger: a quiet spell
        assert await batcher.submit(2) == 20
        clock.now += 60
        assert await batcher.submit(3) == 30
    assert recorder.batches == [[1], [2], [3]]


async def test_when_company_is_expected_even_the_first_item_waits_for_it() -> None:
    recorder = Recorder()
    clock = FakeClock()  # never advances, but nothing came before the first item
    batcher = Batcher(recorder.flush, size=3, busy_linger=30, clock=clock)

    async def submit_expecting_company(i: int) -> None:
        company_expected.set(True)  # as a client with other calls in flight does
        await batcher.submit(i)

    async with anyio.create_task_group() as tg:
        tg.start_soon(batcher.run)
        with anyio.fail_after(5):  # a 30 s linger on a full batch would trip this
            async with anyio.create_task_group() as callers:
                callers.start_soon(submit_expecting_company, 1)
                await anyio.wait_all_tasks_blocked()
                assert recorder.batches == []  # the first one waits
                callers.start_soon(submit_expecting_company, 2)
                callers.start_soon(submit_expecting_company, 3)
        tg.cancel_scope.cancel()
    assert recorder.batches == [[1, 2, 3]]


async def test_company_expected_does_not_hold_back_a_batcher_without_busy_linger() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.flush)
    company_expected.set(True)
    with anyio.fail_after(5):  # run() is not running: only the caller's own task can send it
        assert await batcher.submit(5) == 50
    assert recorder.batches == [[5]]
