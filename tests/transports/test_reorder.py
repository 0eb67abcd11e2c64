"""The client's reorder buffer (`transports.ordering.Reorder`): gaps, waits, bad sequence values, duplicates.

Most tests move a hand-held clock and give up what has expired themselves; two run the real
timer (`run()`) to show it wakes by itself.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from asyncmcp_cli.transports import ordering
from asyncmcp_cli.transports.ordering import Reorder, Sequencer, parse
from tests.conftest import wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(20)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def reorder(clock: Clock, **options: object) -> AsyncIterator[tuple[Reorder[str], list[str]]]:
    """A buffer on the test's clock; its waits run out when the test calls `pass_time`, not by themselves."""
    delivered: list[str] = []

    async def deliver(item: str) -> None:
        delivered.append(item)

    yield Reorder[str](deliver, clock=clock, gap_seconds=2.0, max_wait_seconds=10.0, **options), delivered  # type: ignore[arg-type]


async def put_all(buffer: Reorder[str], *numbers: int, stream: str = "s1") -> None:
    for n in numbers:
        await buffer.put(f"{stream}:{n}", f"{stream}-{n}")


async def pass_time(buffer: Reorder[str], clock: Clock, seconds: float) -> None:
    """Move the clock, then do what `run()` does when a deadline comes."""
    clock.now += seconds
    await buffer.give_up_expired()


def test_sequencer_counts_from_zero_and_a_restart_is_a_new_stream() -> None:
    sequencer = Sequencer()
    first = [parse(sequencer.next()) for _ in range(3)]
    assert [n for _, n in first] == [0, 1, 2]  # type: ignore[misc]
    assert len({stream for stream, _ in first}) == 1  # type: ignore[misc]
    sequencer.restart()
    stream, n = parse(sequencer.next())  # type: ignore[misc]
    assert n == 0 and stream != first[0][0]  # type: ignore[index]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "s1",
        "s1:",
        ":3",
        "s1:-1",
        "s1:01",
        "s1:1.5",
        "s1:1e3",
        "s 1:2",
        "s1:2:3",
        "x" * 65 + ":1",
        "s1:" + "9" * 17,
    ],
)
def test_unreadable_sequence_values_are_not_parsed(value: str | None) -> None:
    assert parse(value) is None


async def test_in_order_messages_pass_straight_through() -> None:
    async with reorder(Clock()) as (buffer, delivered):
        await put_all(buffer, 0, 1, 2)
        assert delivered == ["s1-0", "s1-1", "s1-2"]
        assert buffer.held == 0


async def test_a_gap_holds_later_messages_until_it_fills() -> None:
    async with reorder(Clock()) as (buffer, delivered):
        await put_all(buffer, 2, 1)
        assert delivered == [] and buffer.held == 2
        await put_all(buffer, 0)
        assert delivered == ["s1-0", "s1-1", "s1-2"]
        assert buffer.held == 0


async def test_streams_are_ordered_independently() -> None:
    async with reorder(Clock()) as (buffer, delivered):
        await put_all(buffer, 1, stream="a")
        await put_all(buffer, 0, 1, stream="b")
        assert delivered == ["b-0", "b-1"]
        await put_all(buffer, 0, stream="a")
        assert delivered == ["b-0", "b-1", "a-0", "a-1"]


async def test_a_gap_is_given_up_after_the_wait_and_what_is_held_goes_on_in_order() -> None:
    clock = Clock()
    async with reorder(clock) as (buffer, delivered):
        await put_all(buffer, 3, 1)
        await pass_time(buffer, clock, 1.9)
        assert delivered == []
        await pass_time(buffer, clock, 0.2)
        # 0 given up, 1 handed on; 2 is still missing, and 3 has waited as long as 1: given up too
        assert delivered == ["s1-1", "s1-3"]
        assert buffer.held == 0
        await put_all(buffer, 4)
        assert delivered == ["s1-1", "s1-3", "s1-4"]


async def test_the_real_timer_gives_up_a_gap() -> None:
    """No hand-moved clock: `run()` wakes by itself when the wait runs out."""
    delivered: list[str] = []

    async def deliver(item: str) -> None:
        delivered.append(item)

    buffer = Reorder[str](deliver, gap_seconds=0.2)
    async with anyio.create_task_group() as tg:
        tg.start_soon(buffer.run)
        await put_all(buffer, 1)
        assert delivered == []
        await wait_until(lambda: delivered == ["s1-1"], within=5)
        tg.cancel_scope.cancel()


async def test_the_real_timer_gives_up_a_gap_once_the_reader_catches_up() -> None:
    delivered: list[str] = []

    async def deliver(item: str) -> None:
        delivered.append(item)

    buffer = Reorder[str](deliver, gap_seconds=0.1, max_wait_seconds=60, waits_for_backlog=True)
    async with anyio.create_task_group() as tg:
        tg.start_soon(buffer.run)
        await put_all(buffer, 1)  # held for up to 60 s while the reader is behind
        assert delivered == []
        buffer.caught_up(time.monotonic())  # ... but it has caught up: 0.1 s it is
        await wait_until(lambda: delivered == ["s1-1"], within=5)
        tg.cancel_scope.cancel()


async def test_a_message_after_its_given_up_gap_is_handed_on_late_not_dropped() -> None:
    clock = Clock()
    async with reorder(clock) as (buffer, delivered):
        await put_all(buffer, 1)
        await pass_time(buffer, clock, 2.5)
        assert delivered == ["s1-1"]
        await put_all(buffer, 0)
        assert delivered == ["s1-1", "s1-0"]


async def test_duplicates_are_dropped_whether_handed_on_or_held() -> None:
    async with reorder(Clock()) as (buffer, delivered):
        await put_all(buffer, 0, 0, 2, 2)
        assert delivered == ["s1-0"] and buffer.held == 1
        await buffer.put("s1:2", "a redelivered copy")
        await put_all(buffer, 1)
        assert delivered == ["s1-0", "s1-1", "s1-2"]
        await put_all(buffer, 1, 2)
        assert delivered == ["s1-0", "s1-1", "s1-2"]


@pytest.mark.parametrize("value", [None, "garbage", "s1:-4", "s1:" + "9" * 40, "s1:0x10"])
async def test_missing_or_bad_sequence_values_are_handed_on_at_once(value: str | None) -> None:
    async with reorder(Clock()) as (buffer, delivered):
        await put_all(buffer, 1)  # a gap is open
        await buffer.put(value, "unordered")
        assert delivered == ["unordered"]
        assert buffer.held == 1


async def test_a_number_absurdly_far_ahead_is_handed_on_unordered_and_does_not_move_the_stream() -> None:
    async with reorder(Clock()) as (buffer, delivered):
        await put_all(buffer, 0)
        await buffer.put(f"s1:{ordering.MAX_AHEAD + 5}", "far")
        assert delivered == ["s1-0", "far"] and buffer.held == 0
        await put_all(buffer, 1)
        assert delivered == ["s1-0", "far", "s1-1"]


async def test_a_client_that_joins_a_long_stream_late_orders_it_from_there() -> None:
    start = ordering.MAX_AHEAD + 100
    async with reorder(Clock()) as (buffer, delivered):
        await put_all(buffer, start, start + 2, start + 1)
        assert delivered == [f"s1-{start}", f"s1-{start + 1}", f"s1-{start + 2}"]
        await put_all(buffer, start - 1)  # older than where it joined: late, handed on, not taken for a duplicate
        assert delivered[-1] == f"s1-{start - 1}"


async def test_held_messages_are_bounded_the_oldest_gap_is_given_up() -> None:
    async with reorder(Clock(), max_held=3) as (buffer, delivered):
        await put_all(buffer, 2, 3, stream="a")
        await put_all(buffer, 5, stream="b")
        assert delivered == []
        await put_all(buffer, 7, stream="b")  # a fourth held message: stream a's gap (the oldest) goes
        assert delivered == ["a-2", "a-3"]
        assert buffer.held == 2


async def test_streams_are_bounded_a_forgotten_stream_hands_on_what_it_held() -> None:
    async with reorder(Clock(), max_streams=2) as (buffer, delivered):
        await put_all(buffer, 1, stream="a")
        await put_all(buffer, 0, stream="b")
        await put_all(buffer, 0, stream="c")  # a is the least recently used: forgotten, its message handed on
        assert delivered == ["b-0", "a-1", "c-0"]
        assert buffer.held == 0


async def test_a_flood_of_fake_streams_cannot_hold_messages_beyond_the_bounds() -> None:
    clock = Clock()
    async with reorder(clock, max_held=16, max_streams=8) as (buffer, delivered):
        for index in range(500):
            await buffer.put(f"fake{index}:5", f"fake-{index}")
        assert buffer.held <= 8
        await put_all(buffer, 0, 1, stream="real")
        assert delivered[-2:] == ["real-0", "real-1"]
        await pass_time(buffer, clock, 2.5)
        assert buffer.held == 0
        assert len(delivered) == 502  # every fake message handed on in the end, none kept


async def test_a_reader_behind_its_backlog_waits_longer_for_a_gap() -> None:
    clock = Clock()
    async with reorder(clock, waits_for_backlog=True) as (buffer, delivered):
        await put_all(buffer, 1)
        await pass_time(buffer, clock, 5.0)
        assert delivered == []  # past the 2 s gap, but no read since has come back short of a full batch
        buffer.caught_up(clock.now)  # a read begun now found the queue drained
        await pass_time(buffer, clock, 0.0)
        assert delivered == ["s1-1"]


async def test_a_reader_that_never_catches_up_still_gives_up_at_the_longest_wait() -> None:
    clock = Clock()
    async with reorder(clock, waits_for_backlog=True) as (buffer, delivered):
        await put_all(buffer, 1)
        buffer.caught_up(clock.now - 1)  # a read begun before the message arrived does not count
        await pass_time(buffer, clock, 9.5)
        assert delivered == []
        await pass_time(buffer, clock, 1.0)
        assert delivered == ["s1-1"]
