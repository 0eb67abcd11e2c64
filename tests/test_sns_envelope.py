"""SNS envelopes are unwrapped; raw bodies pass through; real attributes win."""

from __future__ import annotations

import json

from asyncmcp_cli.aws import sns_envelope
from asyncmcp_cli.aws.sqs_queues import Received
from asyncmcp_cli.protocol import codec

BODY = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})


def received(body: str, **attributes: str) -> Received:
    return Received("http://q/1/q", body, attributes, "r", "m", 1, 0)


def envelope(message: str, attributes: dict[str, dict[str, str]] | None = None) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "abc",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
            "Message": message,
            "Timestamp": "2026-01-01T00:00:00.000Z",
            "MessageAttributes": attributes or {},
        }
    )


def test_an_envelope_is_unwrapped_with_its_attributes() -> None:
    body = envelope(
        BODY,
        {
            codec.CLIENT_ID: {"Type": "String", "Value": "c1"},
            "count": {"Type": "Number", "Value": "3"},
            "blob": {"Type": "Binary", "Value": "AAEC"},
        },
    )
    assert sns_envelope.unwrap(received(body)) == (BODY, {codec.CLIENT_ID: "c1", "count": "3"})
    parsed = sns_envelope.parse(body)
    assert parsed is not None
    assert (parsed.topic_arn, parsed.message_id, parsed.timestamp) == (
        "arn:aws:sns:us-east-1:123456789012:t",
        "abc",
        "2026-01-01T00:00:00.000Z",
    )


def test_raw_bodies_and_their_attributes_pass_through() -> None:
    assert sns_envelope.unwrap(received(BODY, **{codec.CLIENT_ID: "c1"})) == (BODY, {codec.CLIENT_ID: "c1"})
    assert sns_envelope.unwrap(received("not json at all")) == ("not json at all", {})


def test_real_queue_attributes_win_over_a_look_alike_body() -> None:
    fake = envelope(BODY, {codec.CLIENT_ID: {"Type": "String", "Value": "someone-else"}})
    assert sns_envelope.unwrap(received(fake, **{codec.CLIENT_ID: "me"}))[1] == {codec.CLIENT_ID: "me"}


def test_things_that_are_not_envelopes() -> None:
    for body in (
        json.dumps({"Type": "SubscriptionConfirmation", "TopicArn": "arn:x", "Message": "m"}),
        json.dumps({"Type": "Notification", "TopicArn": "arn:x", "Message": {"not": "a string"}}),
        json.dumps(["TopicArn"]),
        '{"TopicArn": broken',
    ):
        assert sns_envelope.parse(body) is None
