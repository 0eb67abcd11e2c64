from __future__ import annotations

from asyncmcp_cli.allowlist import AllowList

HOME = "http://127.0.0.1:4750/000000000000/asyncmcp-requests"


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
    home = "arn:aws:sns:us-east-1:000000000000:asyncmcp-requests"
    allow = AllowList.of(["asyncmcp-*"], home=home)
    assert allow.admits("arn:aws:sns:us-east-1:000000000000:asyncmcp-replies")
    assert not allow.admits("arn:aws:sns:us-east-1:111111111111:asyncmcp-replies")


def test_empty_allow_list_admits_nothing() -> None:
    assert not AllowList.of([], home=HOME).admits("asyncmcp-replies")
