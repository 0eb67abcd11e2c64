from __future__ import annotations

import pytest

from asyncmcp_cli.delivery.allowlist import AllowList, MalformedReplyAddressError, parse_reply_address

HOME = "http://127.0.0.1:4750/000000000000/asyncmcp-requests"
TOPIC_HOME = "arn:aws:sns:us-east-1:000000000000:asyncmcp-requests"
ACCOUNT = "http://127.0.0.1:4750/000000000000"


def test_bare_pattern_matches_names_at_the_same_endpoint_and_account() -> None:
    allow = AllowList.of(["asyncmcp-*"], home=HOME)
    assert allow.admits("http://127.0.0.1:4750/000000000000/asyncmcp-replies")
    assert allow.admits("asyncmcp-replies")
    assert not allow.admits("http://127.0.0.1:4750/000000000000/other-queue")
    assert not allow.admits("http://127.0.0.1:4750/999999999999/asyncmcp-replies")  # another account
    assert not allow.admits("http://evil.example:4750/000000000000/asyncmcp-replies")  # another endpoint


def test_url_pattern_matches_whole_addresses() -> None:
    allow = AllowList.of(["https://sqs.*.amazonaws.com/123456789012/team-*"], home=HOME)
    assert allow.admits("https://sqs.eu-west-1.amazonaws.com/123456789012/team-a")
    assert not allow.admits("https://sqs.eu-west-1.amazonaws.com/123456789012/other")


def test_topic_arns() -> None:
    allow = AllowList.of(["asyncmcp-*"], home=TOPIC_HOME)
    assert allow.admits("arn:aws:sns:us-east-1:000000000000:asyncmcp-replies")
    assert not allow.admits("arn:aws:sns:us-east-1:111111111111:asyncmcp-replies")


def test_empty_allow_list_admits_nothing() -> None:
    assert not AllowList.of([], home=HOME).admits("asyncmcp-replies")


@pytest.mark.parametrize(
    "address",
    [
        # a victim queue disguised so that its last "/" segment looks allowed
        f"{ACCOUNT}/victim?x=/asyncmcp-ok",
        f"{ACCOUNT}/victim#/asyncmcp-ok",
        f"{ACCOUNT}/victim/asyncmcp-ok",
        f"{ACCOUNT}/asyncmcp-ok?",
        f"{ACCOUNT}/asyncmcp-ok#",
        f"{ACCOUNT}/asyncmcp-ok/",
        f"{ACCOUNT}//asyncmcp-ok",
        "http://127.0.0.1:4750/000000000000/../000000000000/asyncmcp-ok",
        "http://127.0.0.1:4750/asyncmcp-ok",  # no account
        "http://127.0.0.1:4750/12345/asyncmcp-ok",  # not an account id
        "http://user@127.0.0.1:4750/000000000000/asyncmcp-ok",  # user info
        "http://evil.example\\@127.0.0.1:4750/000000000000/asyncmcp-ok",
        "http://127.0.0.1:99999/000000000000/asyncmcp-ok",  # port out of range
        "ftp://127.0.0.1:4750/000000000000/asyncmcp-ok",
        f"{ACCOUNT}/asyncmcp-%6Fk",  # percent-encoding
        f"{ACCOUNT}/asyncmcp-ok\x00",  # NUL
        f"{ACCOUNT}/asyncmcp-\nok",  # control characters (urlsplit would quietly drop this one)
        f"{ACCOUNT}/asyncmcp-\tok",
        f"{ACCOUNT}/asyncmcp-\x7fok",
        f"{ACCOUNT}/asyncmcp-ok ",
        f"{ACCOUNT}/asyncmcp-økay",
        f"{ACCOUNT}/asyncmcp-" + "o" * 80,  # queue names stop at 80 characters
        "asyncmcp-ok\x00",
        "asyncmcp-ok/../victim",
        "asyncmcp:ok",
        "",
        # ARNs of the wrong shape
        "arn:aws:sns:us-east-1:000000000000:victim:asyncmcp-ok",  # seven fields
        "arn:aws:sns:us-east-1:000000000000",  # five
        "arn:aws:sns:us-east-1:000000000000:",
        "arn:aws:sns:us-east-1:0000:asyncmcp-ok",  # account
        "arn:aws:iam:us-east-1:000000000000:asyncmcp-ok",  # service
        "arn:aws:sns:US-EAST-1:000000000000:asyncmcp-ok",  # region
        "arn:evil:sns:us-east-1:000000000000:asyncmcp-ok",  # partition
        "arn:aws:sns:us-east-1:000000000000:victim/asyncmcp-ok",
        "arn:aws:sns:us-east-1:000000000000:asyncmcp-ok\x00",
    ],
)
def test_malformed_addresses_are_refused_before_any_pattern(address: str) -> None:
    with pytest.raises(MalformedReplyAddressError) as refused:
        parse_reply_address(address)
    assert "\x00" not in str(refused.value) and "\n" not in str(refused.value)  # logs see it escaped
    everything = AllowList.of(["*", "*://*", "arn:*", "asyncmcp-*"], home=HOME)
    assert not everything.admits(address)
    assert not AllowList.of(["*"], home=TOPIC_HOME).admits(address)


@pytest.mark.parametrize(
    ("address", "name", "home"),
    [
        (f"{ACCOUNT}/asyncmcp-ok", "asyncmcp-ok", ("http", "127.0.0.1", "4750", "000000000000")),
        (
            "HTTPS://SQS.eu-west-1.amazonaws.com/123456789012/r.fifo",
            "r.fifo",
            ("https", "sqs.eu-west-1.amazonaws.com", "", "123456789012"),
        ),
        ("http://[::1]:4566/000000000000/q_1", "q_1", ("http", "::1", "4566", "000000000000")),
        ("arn:aws:sns:us-east-1:000000000000:asyncmcp-ok", "asyncmcp-ok", ("aws", "sns", "us-east-1", "000000000000")),
        ("arn:aws-cn:sqs:cn-north-1:123456789012:q.fifo", "q.fifo", ("aws-cn", "sqs", "cn-north-1", "123456789012")),
        (
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:t",
            "t",
            ("aws-us-gov", "sns", "us-gov-west-1", "123456789012"),
        ),
        ("asyncmcp-replies", "asyncmcp-replies", None),
    ],
)
def test_well_formed_addresses_parse(address: str, name: str, home: tuple[str, ...] | None) -> None:
    parsed = parse_reply_address(address)
    assert (parsed.text, parsed.name, parsed.home) == (address, name, home)


@pytest.mark.parametrize(
    "address",
    [f"{ACCOUNT}/victim?x=/asyncmcp-ok", f"{ACCOUNT}/victim#/asyncmcp-ok", f"{ACCOUNT}/victim/asyncmcp-ok"],
)
def test_a_disguised_victim_does_not_pass_a_name_pattern(address: str) -> None:
    allow = AllowList.of(["asyncmcp-*"], home=HOME)
    assert allow.admits(f"{ACCOUNT}/asyncmcp-ok")
    assert not allow.admits(address)


def test_a_home_that_does_not_parse_admits_no_name_pattern() -> None:
    allow = AllowList.of(["asyncmcp-*"], home="http://127.0.0.1:4750/queue/asyncmcp-requests")
    assert not allow.admits(f"{ACCOUNT}/asyncmcp-ok")
