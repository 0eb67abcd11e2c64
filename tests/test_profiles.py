"""Profiles: saved, loaded, defaulted, deleted; and how they fill in transport options."""

from __future__ import annotations

import pytest

from asyncmcp_cli import profiles
from asyncmcp_cli.errors import ConfigurationError


def profile(name: str = "local", **sections: dict[str, str]) -> profiles.Profile:
    return profiles.Profile(
        name=name,
        target="local",
        endpoint_url="http://127.0.0.1:4750",
        region="us-east-1",
        transports=sections or {"sqs": {"request_queue": "p-requests", "reply_queue": "p-replies"}},
        roles={"requests": "http://127.0.0.1:4750/123456789012/p-requests"},
    )


def test_saved_profiles_load_and_the_last_saved_is_the_default() -> None:
    assert profiles.load() is None
    profiles.save(profile("one"))
    profiles.save(profile("two"))
    assert profiles.names() == ["one", "two"]
    assert profiles.load().name == "two"  # type: ignore[union-attr]
    assert profiles.load("one") == profile("one")
    assert profiles.path().parent == profiles.config_dir()


def test_deleting_the_default_moves_the_default() -> None:
    profiles.save(profile("one"))
    profiles.save(profile("two"))
    assert profiles.delete("two") is True
    assert profiles.delete("two") is False
    assert profiles.load().name == "one"  # type: ignore[union-attr]
    profiles.delete("one")
    assert profiles.load() is None


def test_asking_for_a_missing_profile_says_what_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    profiles.save(profile("one"))
    with pytest.raises(ConfigurationError, match=r"no asyncmcp profile named 'nope'.*known: one"):
        profiles.load("nope")
    monkeypatch.setenv(profiles.PROFILE_ENV, "also-missing")
    with pytest.raises(ConfigurationError, match="also-missing"):
        profiles.load()


def test_a_broken_file_is_a_clear_error() -> None:
    profiles.path().parent.mkdir(parents=True, exist_ok=True)
    profiles.path().write_text("{not json")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        profiles.load()


def test_the_profile_fills_only_what_flags_and_environment_left_unset() -> None:
    profiles.save(profile())
    named = {"endpoint_url": None, "region": "eu-west-1", "request_queue": "from-flag", "reply_queue": None}
    assert profiles.with_profile("sqs", named) == {
        "endpoint_url": "http://127.0.0.1:4750",
        "region": "eu-west-1",
        "request_queue": "from-flag",
        "reply_queue": "p-replies",
    }
    assert profiles.with_profile("memory", {"endpoint_url": None}) == {"endpoint_url": None}  # no section for it


def test_a_transport_url_takes_only_the_endpoint_and_only_when_it_has_none() -> None:
    profiles.save(profile())
    named = {"endpoint_url": None, "region": None, "request_queue": None}
    assert profiles.with_profile("sqs://mine?reply_queue=x", named) == named | {
        "endpoint_url": "http://127.0.0.1:4750",
        "region": "us-east-1",
    }
    assert profiles.with_profile("sqs://mine?endpoint_url=http://e", named)["endpoint_url"] is None


def test_exports_select_the_profile() -> None:
    assert profile("p").exports() == {
        "ASYNCMCP_PROFILE": "p",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4750",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_a_provisioned_bucket_is_the_default_result_cache_shared_by_every_worker() -> None:
    from asyncmcp_cli.cli._common import TransportOptions

    with_bucket = profile("shared")
    with_bucket.bucket = "p-payloads-123456789012"
    with_bucket.transports["sqs"]["payload_bucket"] = with_bucket.bucket
    profiles.save(with_bucket)

    def resolved(*option: str, fallback: str | None = None) -> str:
        options = TransportOptions(
            transport="sqs", endpoint_url=None, region=None, request_queue=None, reply_queue=None, option=list(option)
        )
        extra = {"fallback": {"result_cache": fallback}} if fallback else {}
        return options.resolve(**extra).options.result_cache

    assert resolved() == "s3://p-payloads-123456789012/asyncmcp/results/"
    assert resolved(fallback="sqlite:///tmp/workers.db") == "s3://p-payloads-123456789012/asyncmcp/results/"
    assert resolved("result_cache=memory") == "memory"  # asked for explicitly: wins
    profiles.save(profile("no-bucket"))
    assert resolved() == "memory"
    assert resolved(fallback="sqlite:///tmp/workers.db") == "sqlite:///tmp/workers.db"  # serve --workers' shared file


def test_the_task_store_defaults_to_what_every_worker_reaches(monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncmcp_cli.cli.serve import default_task_store
    from asyncmcp_cli.workers.supervisor import WORKER_TASK_STORE_ENV

    with_bucket = profile("shared")
    with_bucket.bucket = "p-payloads-123456789012"
    profiles.save(with_bucket)
    assert default_task_store("shared", "sqs") == "s3://p-payloads-123456789012/asyncmcp/tasks/"
    assert default_task_store("shared", "memory") == "memory"  # the profile does not configure it: no bucket
    monkeypatch.setenv(WORKER_TASK_STORE_ENV, "sqlite:///tmp/workers/tasks.db")
    assert default_task_store("shared", "sqs") == "s3://p-payloads-123456789012/asyncmcp/tasks/"
    profiles.save(profile("no-bucket"))
    assert default_task_store("no-bucket", "sqs") == "sqlite:///tmp/workers/tasks.db"  # serve --workers' shared file
    monkeypatch.delenv(WORKER_TASK_STORE_ENV)
    assert default_task_store("no-bucket", "sqs") == "memory"
