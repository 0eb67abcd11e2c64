"""QUEUE arguments: roles from the profile, names, URLs."""

from __future__ import annotations

import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.inspect import queues_for

ROLES = {"requests": "http://h/1/p-requests", "replies": "http://h/1/p-replies", "dlq": "http://h/1/p-dlq"}


def test_roles_names_and_urls() -> None:
    assert queues_for([], ROLES) == [ROLES["requests"]]
    assert queues_for([], ROLES, pair=True) == [ROLES["requests"], ROLES["replies"]]
    assert queues_for(["requests"], ROLES, pair=True) == [ROLES["requests"], ROLES["replies"]]
    assert queues_for(["dlq", "some-queue", "http://h/1/x", "dlq"], ROLES) == [
        ROLES["dlq"],
        "some-queue",
        "http://h/1/x",
    ]


def test_a_role_the_profile_lacks_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"'sns-dlq' is a queue role.*roles: dlq, replies, requests"):
        queues_for(["sns-dlq"], ROLES)
    with pytest.raises(ConfigurationError, match="run `asyncmcp provision` first"):
        queues_for([], {})
