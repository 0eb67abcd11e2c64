"""Decoding never fails: every body becomes something to show."""

from __future__ import annotations

import json

import pytest

from asyncmcp_cli.aws.sqs_queues import Received
from asyncmcp_cli.inspect import Pairer, decode
from asyncmcp_cli.protocol import codec


def received(body: str, *, sent: int = 1_000, **attributes: str) -> Received:
    return Received("http://h/123/asyncmcp-requests", body, attributes, "rh", "mid", 2, sent)


@pytest.mark.parametrize(
    ("message", "kind", "method", "rid"),
    [
        ({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {}}, "request", "tools/call", 3),
        ({"jsonrpc": "2.0", "method": "notifications/cancelled"}, "notification", "notifications/cancelled", None),
        ({"jsonrpc": "2.0", "id": "a", "result": {}}, "response", None, "a"),
        ({"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "nope"}}, "error", None, 3),
    ],
)
def test_kinds(message: dict, kind: str, method: str | None, rid: object) -> None:
    observed = decode(received(json.dumps(message), **{codec.CLIENT_ID: "c1"}))
    assert (observed.kind, observed.method, observed.id, observed.client_id) == (kind, method, rid, "c1")
    assert (observed.queue, observed.receive_count, observed.problem) == ("asyncmcp-requests", 2, None)
    assert observed.to_json()["body"] == message


def test_bodies_that_are_not_json_rpc_are_kept_and_marked() -> None:
    not_json = decode(received("hello there"))
    assert (not_json.kind, not_json.problem, not_json.body) == ("invalid", "not JSON", "hello there")
    assert not_json.to_json()["body"] == "hello there"
    not_rpc = decode(received(json.dumps({"id": 9, "hello": "world"})))
    assert (not_rpc.kind, not_rpc.id) == ("invalid", 9)
    assert "not a JSON-RPC" in (not_rpc.problem or "")


def test_an_sns_envelope_is_unwrapped() -> None:
    inner = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    body = json.dumps(
        {
            "Type": "Notification",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:asyncmcp-requests",
            "MessageId": "x",
            "Message": inner,
            "MessageAttributes": {codec.CLIENT_ID: {"Type": "String", "Value": "c7"}},
        }
    )
    observed = decode(received(body))
    assert (observed.kind, observed.method, observed.client_id, observed.body) == ("request", "tools/list", "c7", inner)
    assert observed.topic_arn == "arn:aws:sns:us-east-1:123456789012:asyncmcp-requests"
    assert observed.raw_body == body
    assert observed.size == len(inner)


def test_responses_pair_with_their_requests_by_client_and_id() -> None:
    pairer = Pairer()
    request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call"})
    response = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {}})
    early = pairer.see(decode(received(response, sent=500, **{codec.CLIENT_ID: "a"})))
    assert early.paired_method is None  # its request has not been seen
    pairer.see(decode(received(request, sent=1_000, **{codec.CLIENT_ID: "a"})))
    other_client = pairer.see(decode(received(response, sent=1_100, **{codec.CLIENT_ID: "b"})))
    paired = pairer.see(decode(received(response, sent=1_250, **{codec.CLIENT_ID: "a"})))
    assert other_client.paired_method is None
    assert (paired.paired_method, paired.latency_ms, paired.shown_method) == ("tools/call", 250, "tools/call")


def test_the_pairer_forgets_the_oldest_requests_first() -> None:
    pairer = Pairer(max_remembered=2)
    for rid in (1, 2, 3):
        pairer.see(decode(received(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "m"}), **{codec.CLIENT_ID: "a"})))
    answers = [
        pairer.see(decode(received(json.dumps({"jsonrpc": "2.0", "id": rid, "result": {}}), **{codec.CLIENT_ID: "a"})))
        for rid in (1, 3)
    ]
    assert [a.paired_method for a in answers] == [None, "m"]
