"""Reading a subscription's filter policy on the client id: exact ids and prefixes, nothing guessed."""

from __future__ import annotations

import json

import pytest

from asyncmcp_cli.aws.sns_topics import AttributeFilter, attribute_filter

ID = "asyncmcp-client-id"


def subscription(policy: object, **attributes: str) -> dict[str, str]:
    return {"SubscriptionArn": "arn:aws:sns:us-east-1:1:t:s", "FilterPolicy": json.dumps(policy)} | attributes


def test_a_prefix_rule_admits_only_ids_under_it() -> None:
    found = attribute_filter(subscription({ID: [{"prefix": "p-client-1."}]}), ID)
    assert found == AttributeFilter(prefixes=("p-client-1.",))
    assert found.admits("p-client-1.0f3a")
    assert not found.admits("p-client-10.0f3a")  # the dot keeps client 1 from admitting client 10
    assert not found.admits("p-client-1")
    assert not found.admits("someone-else")
    assert found.describe() == "starting with 'p-client-1.'"


def test_exact_ids_and_prefixes_mix() -> None:
    found = attribute_filter(subscription({ID: ["p-client-1", {"prefix": "q-"}], "other": ["x"]}), ID)
    assert found == AttributeFilter(exact=("p-client-1",), prefixes=("q-",))
    assert found.admits("p-client-1") and found.admits("q-anything")
    assert not found.admits("p-client-1.abc")
    assert found.describe() == "'p-client-1' or starting with 'q-'"


@pytest.mark.parametrize(
    "policy",
    [
        {"other": ["x"]},  # does not filter on the client id
        {ID: []},
        {ID: [{"anything-but": ["x"]}]},  # an operator we do not interpret: cannot tell, so no verdict
        {ID: [{"prefix": "p-"}, {"suffix": "-x"}]},
        {ID: [{"prefix": "p-", "suffix": "-x"}]},
        {ID: [{"prefix": 5}]},
        {ID: "p-client-1"},
        ["not", "an", "object"],
    ],
)
def test_what_cannot_be_read_gives_no_verdict(policy: object) -> None:
    assert attribute_filter(subscription(policy), ID) is None


def test_body_scoped_unparsable_and_missing_policies_give_no_verdict() -> None:
    body_scoped = subscription({ID: [{"prefix": "p-"}]}, FilterPolicyScope="MessageBody")
    assert attribute_filter(body_scoped, ID) is None
    assert attribute_filter({"FilterPolicy": "{not json"}, ID) is None
    assert attribute_filter({}, ID) is None
