"""Parsing and policy of answer expiry: untrusted text in, bounded numbers out."""

from __future__ import annotations

import pytest

from asyncmcp_cli.delivery import reply_expiry as rx


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("1e400", None),
        ("", None),
        ("soon", None),
        ("9" * 40, None),
        (None, None),
        (12, None),
    ],
)
def test_seconds_are_parsed_defensively(text: object, seconds: float | None) -> None:
    assert rx.parse_seconds(text) == seconds


def test_the_server_grants_what_was_declared_within_its_bounds() -> None:
    assert rx.granted_ttl(30, ceiling=3600) == 30
    assert rx.granted_ttl(10**9, ceiling=3600) == 3600
    assert rx.granted_ttl(None, ceiling=3600) == 3600  # nothing declared: never cut an answer short
    assert rx.granted_ttl(0, ceiling=3600) == rx.MIN_REPLY_TTL
    assert rx.declare(0.2) == "1" and rx.declare(86400) == "86400"


def test_only_a_well_formed_stamp_in_the_past_is_expired() -> None:
    now = 1_000_000.0
    assert rx.is_expired({rx.EXPIRES_AT: rx.stamp(-5, now)}, now)
    assert not rx.is_expired({rx.EXPIRES_AT: rx.stamp(60, now)}, now)
    assert not rx.is_expired({rx.EXPIRES_AT: "yesterday"}, now)  # malformed: no expiry
    assert not rx.is_expired({}, now)  # from a server that predates expiry


def test_a_foreign_message_is_hidden_longer_each_time_but_never_past_its_expiry() -> None:
    now = 1_000_000.0
    unstamped = [rx.hide_seconds(count, {}, now) for count in range(1, 12)]
    assert unstamped[:4] == [1, 2, 4, 8]  # a fresh answer briefly: its owner may be reading right now
    assert unstamped == sorted(unstamped) and unstamped[-1] == rx.MAX_HIDE_SECONDS
    minute_old = int((now - 60) * 1000)
    assert rx.hide_seconds(1, {}, now, sent_at_ms=minute_old) == 30  # an old answer has no live owner
    assert rx.hide_seconds(1, {}, now, sent_at_ms=int((now - 3600) * 1000)) == rx.MAX_HIDE_SECONDS
    assert rx.hide_seconds(11, {rx.EXPIRES_AT: rx.stamp(7, now)}, now) == 7
    assert rx.hide_seconds(11, {rx.EXPIRES_AT: rx.stamp(-3, now)}, now) == 0
    second_old = int((now - 1) * 1000)
    # seen again and again by a reader that polls all the time, a young answer stays within its owner's reach
    assert [rx.hide_seconds(count, {}, now, sent_at_ms=second_old) for count in (1, 6, 11)] == [1, 1, 1]


def test_orphans_are_expired_or_received_too_often() -> None:
    now = 1_000_000.0
    assert rx.is_orphaned({rx.EXPIRES_AT: rx.stamp(-1, now)}, 1, now)
    assert rx.is_orphaned({}, rx.ORPHAN_RECEIVE_COUNT, now)
    assert not rx.is_orphaned({}, rx.ORPHAN_RECEIVE_COUNT - 1, now)
