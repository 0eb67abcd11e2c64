"""`tail --follow` through a tap, as real subprocesses against moto: it sees everything and takes nothing.

`provision --tap` makes a tap topic; the profile's server and clients publish
a copy of what they send to it; `tail --follow` reads the copies through a
temporary queue of its own. The live queues' messages are never received by
`tail` (their receive counts say so), the calls are answered as usual, and
`tail`'s queue and subscription are gone after it exits. Without a tap,
`tail --follow` refuses and touches nothing.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.inspect.tap_queue import CREATED_BY, EXPIRES, MAKER, ROLE, TAP_ROLE
from tests.cli.test_provision_tail import Lines, asyncmcp, leftovers, start, stop
from tests.conftest import read_until, wait_until_sync

CALLS = 3


@pytest.fixture
def env(moto: LocalEndpoint, tmp_path: Path) -> dict[str, str]:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith(("ASYNCMCP_", "AWS_"))}
    return base | moto.exports() | {"ASYNCMCP_CONFIG_DIR": str(tmp_path / "config"), "COLUMNS": "200", "NO_COLOR": "1"}


@pytest.fixture
def prefix() -> str:
    import uuid

    return f"p{uuid.uuid4().hex[:10]}"


def provision(env: dict[str, str], prefix: str, *extra: str) -> dict:
    done = asyncmcp(env, "provision", "local", "--prefix", prefix, "--transport", "sqs", "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tap_queues(moto: LocalEndpoint, prefix: str) -> list[str]:
    return aws.client("sqs", moto.settings).list_queues(QueueNamePrefix=f"{prefix}-tap-").get("QueueUrls", [])


def subscriptions(moto: LocalEndpoint, topic: str) -> list[dict]:
    return aws.client("sns", moto.settings).list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]


def receive_directly(moto: LocalEndpoint, url: str) -> list[dict]:
    """What a queue holds now, received once by the test itself (and given back at once)."""
    response = aws.client("sqs", moto.settings).receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    return response.get("Messages", [])


@pytest.mark.timeout(240)
def test_follow_through_the_tap_sees_and_pairs_everything_and_takes_nothing(
    moto: LocalEndpoint, env: dict[str, str], prefix: str
) -> None:
    report = provision(env, prefix, "--tap")
    written = report["profile_written"]["transports"]["sqs"]
    tap_arn = written["tap"]
    assert tap_arn.endswith(f":{prefix}-tap")
    request_url, reply_url = written["request_queue"], written["reply_queue"]

    tail = start(env, "tail", "--pair", "--follow", "--json", "--method", "tools/call", "--timeout", "150")
    server = None
    try:
        lines = Lines(tail)
        wait_until_sync(lambda: tap_queues(moto, prefix) and subscriptions(moto, tap_arn), timeout=30)

        # a request waits on the queue (no server yet, and its client does not wait)
        sent = asyncmcp(env, "connect", "call", "echo", "text=waiting", "--no-wait", "--json", "--transport", "sqs")
        assert sent.returncode == 0, sent.stderr
        receipt = json.loads(sent.stdout)
        seen = [json.loads(lines.next())]
        assert (seen[0]["kind"], seen[0]["client_id"], seen[0]["queue"]) == (
            "request",
            receipt["client_id"],
            f"{prefix}-requests",
        )
        assert seen[0]["tapped"] is True and seen[0]["receive_count"] is None
        waiting = receive_directly(moto, request_url)
        assert [int(m["Attributes"]["ApproximateReceiveCount"]) for m in waiting] == [1]  # tail never received it

        server = start(env, "serve", "--transport", "sqs", "--grace-period", "5")
        read_until(server, "serving")
        seen.append(json.loads(lines.next()))
        assert (seen[1]["kind"], seen[1]["id"], seen[1]["method"]) == ("response", seen[0]["id"], "tools/call")
        assert seen[1]["latency_ms"] is not None and seen[1]["queue"] == f"{prefix}-replies"
        # its client is gone, so the answer waits on the reply queue: nobody but the test has received it
        unclaimed = receive_directly(moto, reply_url)
        assert [int(m["Attributes"]["ApproximateReceiveCount"]) for m in unclaimed] == [1]

        for index in range(CALLS):
            called = asyncmcp(env, "connect", "call", "echo", f"text=call-{index}", "--transport", "sqs", timeout=60)
            assert called.returncode == 0, called.stderr
            assert called.stdout.strip() == f"call-{index}"
        seen += [json.loads(lines.next()) for _ in range(2 * CALLS)]
    finally:
        if server is not None:
            stop(server)
        if tail.poll() is None:
            tail.send_signal(signal.SIGINT)
        code = tail.wait(timeout=30)
        stop(tail)

    requests = {(r["client_id"], r["id"]): r for r in seen if r["kind"] == "request"}
    responses = {(r["client_id"], r["id"]): r for r in seen if r["kind"] == "response"}
    assert len(requests) == CALLS + 1 and requests.keys() == responses.keys()  # every request and its response
    assert all(r["method"] == "tools/call" and r["latency_ms"] is not None for r in responses.values())  # paired
    texts = [r["body"]["params"]["arguments"]["text"] for r in requests.values()]
    assert texts == ["waiting", *(f"call-{i}" for i in range(CALLS))]
    assert [r["sent_at"] for r in seen] == sorted(r["sent_at"] for r in seen)  # in send order

    assert code == 130  # Ctrl-C
    assert tap_queues(moto, prefix) == [] and subscriptions(moto, tap_arn) == []  # its own queue went with it

    down = asyncmcp(env, "provision", "local", "--teardown", "--json")
    assert down.returncode == 0, down.stderr
    assert leftovers(moto, prefix) == []


@pytest.mark.timeout(120)
def test_a_stale_tap_queue_is_removed_by_the_next_tail_and_nothing_else(
    moto: LocalEndpoint, env: dict[str, str], prefix: str
) -> None:
    provision(env, prefix, "--tap")
    sqs = aws.client("sqs", moto.settings)
    tap = {CREATED_BY: MAKER, ROLE: TAP_ROLE}
    past, future = str(int(time.time()) - 60), str(int(time.time()) + 3600)
    stale = sqs.create_queue(QueueName=f"{prefix}-tap-stale", tags=tap | {EXPIRES: past})["QueueUrl"]
    live = sqs.create_queue(QueueName=f"{prefix}-tap-live", tags=tap | {EXPIRES: future})["QueueUrl"]
    foreign = sqs.create_queue(QueueName=f"{prefix}-tap-foreign", tags={EXPIRES: past})["QueueUrl"]
    untagged = sqs.create_queue(QueueName=f"{prefix}-tap-untagged")["QueueUrl"]

    done = asyncmcp(env, "tail", "--follow", "--json", "--timeout", "2", timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(tap_queues(moto, prefix)) == sorted([live, foreign, untagged])  # tail's own is gone too
    assert stale not in tap_queues(moto, prefix)


@pytest.mark.timeout(120)
def test_follow_without_a_tap_refuses_in_one_line_and_touches_nothing(
    moto: LocalEndpoint, env: dict[str, str], prefix: str
) -> None:
    report = provision(env, prefix)
    request_url = report["profile_written"]["transports"]["sqs"]["request_queue"]
    sent = asyncmcp(env, "connect", "call", "echo", "text=waiting", "--no-wait", "--transport", "sqs")
    assert sent.returncode == 0, sent.stderr

    refused = asyncmcp(env, "tail", "--pair", "--follow", "--timeout", "5")
    assert refused.returncode == 3
    assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) == 1
    assert "--tap" in refused.stderr and "--steal" in refused.stderr and "Traceback" not in refused.stderr
    waiting = receive_directly(moto, request_url)
    assert [int(m["Attributes"]["ApproximateReceiveCount"]) for m in waiting] == [1]
