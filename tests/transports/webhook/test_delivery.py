"""Webhook delivery against real receivers on 127.0.0.1: retries, backoff, Retry-After, dead letters."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx2
import pytest

from asyncmcp_cli.errors import PayloadTooLargeError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.webhook.deadletter import DeadLetter, DeadLetterFile
from asyncmcp_cli.transports.webhook.delivery import RetryPolicy, WebhookSender, post_with_retry, retry_after_seconds
from asyncmcp_cli.transports.webhook.signing import Signer, Verifier
from asyncmcp_cli.transports.webhook.urlpolicy import UrlPolicy
from tests.transports.webhook_support import SECRET, ScriptedReceiver, reserve_port

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, timeout=2.0)
BODY = '{"jsonrpc":"2.0","id":1,"result":{}}'


def no_headers() -> dict[str, str]:
    return {}


async def post(url: str, policy: RetryPolicy = FAST):
    async with httpx2.AsyncClient() as client:
        return await post_with_retry(client, url, BODY, headers=no_headers, policy=policy)


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
async def test_transient_statuses_are_retried(status: int) -> None:
    receiver = ScriptedReceiver(script=[(status, {}), (status, {})])
    async with receiver.running() as bound:
        outcome = await post(bound.url("/webhook"))
    assert outcome.delivered
    assert outcome.attempts == 3
    assert len(receiver.arrivals) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413])
async def test_other_client_errors_stop_at_once(status: int) -> None:
    receiver = ScriptedReceiver(script=[(status, {})])
    async with receiver.running() as bound:
        outcome = await post(bound.url("/webhook"))
    assert not outcome.delivered
    assert (outcome.attempts, outcome.status) == (1, status)
    assert len(receiver.arrivals) == 1


async def test_409_means_already_delivered() -> None:
    receiver = ScriptedReceiver(script=[(409, {})])
    async with receiver.running() as bound:
        outcome = await post(bound.url("/webhook"))
    assert outcome.delivered
    assert outcome.attempts == 1


async def test_retry_after_is_honoured() -> None:
    receiver = ScriptedReceiver(script=[(429, {"retry-after": "1"})])
    async with receiver.running() as bound:
        outcome = await post(bound.url("/webhook"))
    assert outcome.delivered
    first, second = receiver.arrivals
    assert second.at - first.at >= 0.95  # the backoff alone would have waited at most 0.05 s


async def test_connection_errors_are_retried_until_attempts_run_out() -> None:
    outcome = await post(f"http://127.0.0.1:{reserve_port()}/webhook")
    assert not outcome.delivered
    assert outcome.attempts == FAST.attempts
    assert "ConnectError" in outcome.reason


async def test_a_receiver_that_does_not_answer_in_time_is_retried() -> None:
    receiver = ScriptedReceiver(delay_first=1.0)
    async with receiver.running() as bound:
        outcome = await post(bound.url("/webhook"), RetryPolicy(attempts=3, base_delay=0.01, timeout=0.3))
    assert outcome.delivered
    assert outcome.attempts == 2


def test_retry_after_values() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = {policy.backoff(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def sender(client: httpx2.AsyncClient, tmp_path: Path, *, attempts: int = 2, allow: str = "http://127.0.0.1:*"):
    return WebhookSender(
        client,
        signer=Signer([SECRET]),
        policy=UrlPolicy([allow]),
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=0.02, timeout=2.0),
        dead_letter=DeadLetterFile(tmp_path / "dead.jsonl"),
        max_body_bytes=10_000,
    )


async def test_deliveries_are_signed_and_keep_their_id_across_retries(tmp_path: Path) -> None:
    receiver = ScriptedReceiver(script=[(503, {})], verify=SECRET)
    async with receiver.running() as bound, httpx2.AsyncClient() as client:
        delivered = await sender(client, tmp_path).send(bound.url("/webhook"), BODY, client_id="c1")
    assert delivered
    first, second = receiver.arrivals
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.headers[codec.CLIENT_ID] == "c1"
    assert Verifier([SECRET]).verify(second.body, second.headers)


async def test_after_the_last_attempt_one_line_is_logged_and_the_message_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{reserve_port()}/webhook"
    with caplog.at_level(logging.ERROR, logger="asyncmcp_cli.transports.webhook.delivery"):
        async with httpx2.AsyncClient() as client:
            delivered = await sender(client, tmp_path).send(url, BODY, client_id="c1")
    assert not delivered
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert url in line.getMessage()
    assert str(tmp_path / "dead.jsonl") in line.getMessage()
    [letter] = DeadLetterFile(tmp_path / "dead.jsonl").read()
    assert (letter.url, letter.client_id, letter.body, letter.attempts) == (url, "c1", BODY, 2)
    assert "ConnectError" in letter.reason


async def test_a_refused_url_is_never_posted_to(tmp_path: Path) -> None:
    receiver = ScriptedReceiver()
    async with receiver.running() as bound, httpx2.AsyncClient() as client:
        delivered = await sender(client, tmp_path, allow="https://*").send(bound.url("/webhook"), BODY, client_id="c")
    assert not delivered
    assert receiver.arrivals == []
    [letter] = DeadLetterFile(tmp_path / "dead.jsonl").read()
    assert "allow-list" in letter.reason


async def test_an_oversize_message_is_refused_before_any_post(tmp_path: Path) -> None:
    async with httpx2.AsyncClient() as client:
        with pytest.raises(PayloadTooLargeError, match="10000"):
            await sender(client, tmp_path).send("http://127.0.0.1:1/webhook", "x" * 10_001, client_id="c")


async def test_an_unwritable_dead_letter_file_is_reported_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_text("")
    dead = DeadLetterFile(tmp_path / "a-file" / "dead.jsonl")
    with caplog.at_level(logging.ERROR):
        assert not await dead.write(DeadLetter("http://x/", "c", "msg_1", 1, "test", BODY))
    assert "cannot write" in caplog.text
