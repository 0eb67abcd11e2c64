"""`tail` against a real moto server: peeking gives messages back, consuming deletes, filters, follow, pairing."""

from __future__ import annotations

import json
import time

import anyio
import pytest

from asyncmcp_cli.errors import QueueNotFoundError
from asyncmcp_cli.inspect import Observed, TailOptions, tail
from asyncmcp_cli.protocol import codec
from tests.conftest import Queues, wait_until

pytestmark = pytest.mark.anyio


def put(queues: Queues, url: str, message: dict | str, **attributes: str) -> None:
    body = message if isinstance(message, str) else json.dumps(message)
    queues.sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


def request(rid: int, method: str = "tools/call") -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": {}}


def response(rid: int) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "result": {"content": []}}


async def run_tail(queues: Queues, urls: list[str], **options: object) -> tuple[list[Observed], object]:
    seen: list[Observed] = []
    with anyio.fail_after(20):
        summary = await tail(queues.endpoint.settings, urls, TailOptions(**options), seen.append)  # type: ignore[arg-type]
    return seen, summary


async def test_a_peek_shows_everything_in_order_and_gives_it_back(queues: Queues) -> None:
    for rid in (1, 2, 3):
        put(queues, queues.request_url, request(rid), **{codec.CLIENT_ID: "c1"})
    seen, summary = await run_tail(queues, [queues.request])
    assert [o.id for o in seen] == [1, 2, 3]
    assert [o.receive_count for o in seen] == [1, 1, 1]
    assert (summary.shown, summary.consumed, summary.stopped_by) == (3, 0, "end")
    await wait_until(lambda: queues.counts(queues.request_url) == (3, 0))  # all visible again, at once
    again, _ = await run_tail(queues, [queues.request_url])
    assert [o.receive_count for o in again] == [2, 2, 2]  # each look is a receive


async def test_consume_deletes_what_it_shows_and_only_that(queues: Queues) -> None:
    put(queues, queues.request_url, request(1, "tools/list"), **{codec.CLIENT_ID: "c1"})
    put(queues, queues.request_url, request(2, "tools/call"), **{codec.CLIENT_ID: "c1"})
    seen, summary = await run_tail(queues, [queues.request], consume=True, methods=("tools/l*",))
    assert [o.method for o in seen] == ["tools/list"]
    assert summary.consumed == 1
    await wait_until(lambda: queues.counts(queues.request_url) == (1, 0))


async def test_filters_and_count(queues: Queues) -> None:
    for rid, client in ((1, "a"), (2, "b"), (3, "a"), (4, "a")):
        put(queues, queues.request_url, request(rid), **{codec.CLIENT_ID: client})
    by_client, _ = await run_tail(queues, [queues.request], clients=("a",))
    assert [o.id for o in by_client] == [1, 3, 4]
    by_id, _ = await run_tail(queues, [queues.request], ids=("2", "4"))
    assert [o.id for o in by_id] == [2, 4]
    counted, summary = await run_tail(queues, [queues.request], count=2)
    assert len(counted) == 2 and summary.stopped_by == "count"
    await wait_until(lambda: queues.counts(queues.request_url) == (4, 0))


async def test_requests_and_responses_pair_across_queues(queues: Queues) -> None:
    put(queues, queues.request_url, request(5), **{codec.CLIENT_ID: "c1"})
    put(queues, queues.reply_url, response(5), **{codec.CLIENT_ID: "c1"})
    put(queues, queues.reply_url, response(5), **{codec.CLIENT_ID: "someone-else"})
    seen, _ = await run_tail(queues, [queues.request, queues.reply])
    kinds = [(o.queue, o.kind, o.client_id, o.shown_method) for o in seen]
    assert kinds == [
        (queues.request, "request", "c1", "tools/call"),
        (queues.reply, "response", "c1", "tools/call"),
        (queues.reply, "response", "someone-else", None),
    ]
    assert seen[1].latency_ms is not None and seen[1].latency_ms >= 0
    only_calls, _ = await run_tail(queues, [queues.request, queues.reply], methods=("tools/call",))
    assert len(only_calls) == 2  # the response matches through its request


async def test_follow_shows_new_messages_once_until_its_count(queues: Queues) -> None:
    seen: list[Observed] = []
    started = anyio.Event()
    options = TailOptions(follow=True, count=2, wait_seconds=1)
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            result: list[object] = []

            async def run() -> None:
                result.append(
                    await tail(
                        queues.endpoint.settings,
                        [queues.request],
                        options,
                        seen.append,
                        on_start=lambda _: started.set(),
                    )
                )

            tg.start_soon(run)
            await started.wait()
            put(queues, queues.request_url, request(1), **{codec.CLIENT_ID: "c1"})
            await wait_until(lambda: seen)
            put(queues, queues.request_url, request(2), **{codec.CLIENT_ID: "c1"})
    assert [o.id for o in seen] == [1, 2]  # the first, given back and seen again meanwhile, is not repeated
    assert result[0].stopped_by == "count"  # type: ignore[attr-defined]


async def test_follow_stops_at_its_timeout(queues: Queues) -> None:
    put(queues, queues.request_url, "not json-rpc at all")
    seen, summary = await run_tail(queues, [queues.request], follow=True, timeout=2, wait_seconds=1)
    assert [(o.kind, o.problem) for o in seen] == [("invalid", "not JSON")]
    assert summary.stopped_by == "timeout"  # type: ignore[attr-defined]
    await wait_until(lambda: queues.counts(queues.request_url) == (1, 0))


async def test_an_unknown_queue_is_a_clear_error(queues: Queues) -> None:
    with pytest.raises(QueueNotFoundError, match="asyncmcp-no-such-queue"):
        await run_tail(queues, ["asyncmcp-no-such-queue"])


def test_follow_backs_off_only_while_old_messages_come_back() -> None:
    from asyncmcp_cli.inspect.tail import _next_backoff

    assert _next_backoff(8.0, received=3, new=3) == 0.0
    assert _next_backoff(8.0, received=3, new=1) == 1.0
    assert [_next_backoff(b, received=2, new=0) for b in (0.0, 1.0, 8.0, 16.0)] == [1.0, 2.0, 16.0, 20.0]


async def test_tail_counts_the_orphans_on_a_reply_queue(queues: Queues) -> None:
    from asyncmcp_cli.delivery import reply_expiry

    now = int(time.time())
    put(queues, queues.reply_url, response(1), **{codec.CLIENT_ID: "gone", reply_expiry.EXPIRES_AT: str(now - 1)})
    put(queues, queues.reply_url, response(2), **{codec.CLIENT_ID: "live", reply_expiry.EXPIRES_AT: str(now + 600)})
    put(queues, queues.reply_url, response(3), **{codec.CLIENT_ID: "old", reply_expiry.EXPIRES_AT: "whenever"})
    seen, summary = await run_tail(queues, [queues.reply])
    assert {o.id: o.orphaned for o in seen} == {1: True, 2: False, 3: False}
    assert {o.id: o.expires_at for o in seen} == {1: now - 1, 2: now + 600, 3: None}
    assert summary.orphaned == 1
    assert seen[0].to_json()["orphaned"] is True
    await wait_until(lambda: queues.counts(queues.reply_url) == (3, 0))  # tail only looks; it deletes nothing
