"""Receipts: compact and JSON forms, and clear refusals of anything else."""

from __future__ import annotations

import dataclasses
import json

import pytest

from asyncmcp_cli.delivery.receipts import PREFIX, BadReceiptError, Receipt

RECEIPT = Receipt(
    transport="sqs",
    reply_queue="http://127.0.0.1:4750/123456789012/asyncmcp-replies",
    client_id="c0ffee",
    request_id="a1b2c3",
    method="tools/call",
    name="sleep",
    request_queue="http://127.0.0.1:4750/123456789012/asyncmcp-requests",
    endpoint="http://127.0.0.1:4750",
    region="us-east-1",
    sent_at="2026-01-01T00:00:00+00:00",
)


def test_the_compact_form_round_trips_without_the_request_queue() -> None:
    text = RECEIPT.encode()
    assert text.startswith(PREFIX)
    assert all(c.isalnum() or c in "-_." for c in text)  # safe to paste into any shell unquoted
    assert Receipt.parse(text) == dataclasses.replace(RECEIPT, request_queue=None)


def test_the_json_form_and_the_cli_json_output_both_parse() -> None:
    assert Receipt.parse(json.dumps(RECEIPT.to_dict())) == RECEIPT
    cli_output = RECEIPT.to_dict() | {"receipt": RECEIPT.encode()}
    assert Receipt.parse(json.dumps(cli_output)).client_id == "c0ffee"


def test_whitespace_around_a_pasted_receipt_is_ignored() -> None:
    assert Receipt.parse(f"\n  {RECEIPT.encode()}  \n").request_id == "a1b2c3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "not a receipt"),
        (PREFIX + "!!!", "damaged"),
        (RECEIPT.encode()[:-20], "damaged"),
        ("{not json", "not valid JSON"),
        ('{"v": 2, "transport": "sqs", "reply_queue": "q", "client_id": "c"}', "version 2"),
        ('{"transport": "sqs", "client_id": "c"}', "lacks reply_queue"),
        ("[1]", "not a receipt"),
    ],
)
def test_bad_receipts_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(BadReceiptError, match=message):
        Receipt.parse(text)
