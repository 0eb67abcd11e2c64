"""Standard Webhooks signing: rotation, refusals, and the replay cache."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports.webhook.signing import (
    ReplayCache,
    Signer,
    VerificationError,
    Verifier,
    generate_secret,
    new_message_id,
    parse_secrets,
)

OLD, NEW, STRANGER = generate_secret(), generate_secret(), generate_secret()
BODY = '{"jsonrpc":"2.0","id":1,"result":{}}'


def signed(secrets: list[str], body: str = BODY, **kwargs: object) -> dict[str, str]:
    return Signer(secrets).headers(body, message_id=new_message_id(), **kwargs)  # type: ignore[arg-type]


def test_a_signed_webhook_verifies_and_yields_its_id() -> None:
    headers = signed([OLD])
    assert Verifier([OLD]).verify(BODY.encode(), headers) == headers["webhook-id"]


@pytest.mark.parametrize(
    ("sender", "receiver"),
    [([NEW, OLD], [OLD]), ([NEW, OLD], [NEW]), ([OLD], [NEW, OLD]), ([NEW], [NEW, OLD])],
)
def test_rotation_overlaps_old_and_new_secrets(sender: list[str], receiver: list[str]) -> None:
    headers = signed(sender)
    assert len(headers["webhook-signature"].split()) == len(sender)
    assert Verifier(receiver).verify(BODY.encode(), headers)


def test_a_forged_signature_is_refused() -> None:
    with pytest.raises(VerificationError, match="no matching signature") as caught:
        Verifier([OLD]).verify(BODY.encode(), signed([STRANGER]))
    assert caught.value.status == 401


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(VerificationError, match="no matching signature"):
        Verifier([OLD]).verify(BODY.replace("{}", '{"x":1}').encode(), signed([OLD]))


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_refused(missing: str) -> None:
    headers = signed([OLD])
    del headers[missing]
    with pytest.raises(VerificationError, match="missing"):
        Verifier([OLD]).verify(BODY.encode(), headers)


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_a_timestamp_outside_five_minutes_is_refused(skew: timedelta) -> None:
    headers = signed([OLD], now=datetime.now(tz=timezone.utc) + skew)
    with pytest.raises(VerificationError, match="timestamp outside"):
        Verifier([OLD]).verify(BODY.encode(), headers)


def test_a_timestamp_within_five_minutes_is_accepted() -> None:
    headers = signed([OLD], now=datetime.now(tz=timezone.utc) - timedelta(minutes=4))
    assert Verifier([OLD]).verify(BODY.encode(), headers)


@pytest.mark.parametrize("signature", ["garbage", "v1,not-base64!!", "v1", "v2,AAAA"])
def test_malformed_signatures_are_refused_not_raised(signature: str) -> None:
    headers = signed([OLD]) | {"webhook-signature": signature}
    with pytest.raises(VerificationError):
        Verifier([OLD]).verify(BODY.encode(), headers)


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(VerificationError, match="UTF-8"):
        Verifier([OLD]).verify(b"\xff\xfe", signed([OLD]))


def test_secrets_are_validated_with_clear_messages() -> None:
    with pytest.raises(ConfigurationError, match="--webhook-secret"):
        parse_secrets([])
    with pytest.raises(ConfigurationError, match="must start with 'whsec_'"):
        parse_secrets(["hunter2hunter2hunter2hunter2"])
    with pytest.raises(ConfigurationError, match="not base64"):
        parse_secrets(["whsec_!!not*base64!!"])
    short = "whsec_" + base64.b64encode(b"x" * 8).decode()
    with pytest.raises(ConfigurationError, match="at least 24"):
        parse_secrets([short])


def test_several_secrets_may_share_one_value() -> None:
    assert len(parse_secrets([f"{OLD},{NEW}"])) == 2
    assert len(parse_secrets([f"{OLD} {NEW}", STRANGER])) == 3


def test_a_generated_secret_has_the_standard_form() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_the_replay_cache_refuses_an_id_twice_until_released() -> None:
    cache = ReplayCache()
    assert cache.claim("msg_1")
    assert not cache.claim("msg_1")
    cache.release("msg_1")
    assert cache.claim("msg_1")


def test_the_replay_cache_forgets_ids_after_its_ttl() -> None:
    now = [0.0]
    cache = ReplayCache(ttl=10, clock=lambda: now[0])
    assert cache.claim("msg_1")
    now[0] = 9.9
    assert not cache.claim("msg_1")
    now[0] = 10.1
    assert cache.claim("msg_2")  # the purge runs on claim
    assert len(cache) == 1
    assert cache.claim("msg_1")


def test_the_replay_cache_is_bounded_and_drops_the_oldest() -> None:
    cache = ReplayCache(max_entries=3)
    for n in range(5):
        assert cache.claim(f"msg_{n}")
    assert len(cache) == 3
    assert not cache.claim("msg_4")
    assert cache.claim("msg_0")
