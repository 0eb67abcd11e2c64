"""`asyncmcp provision` with several profiles on one endpoint: each deletes only what it created.

Through the CLI (Typer's runner) against a real moto server. Two profiles with
the same prefix name the same queues; the second one's teardown must leave the
first one's, a teardown of a profile that is gone must delete nothing, and a
dry run must list exactly what the real teardown then deletes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from asyncmcp_cli import aws, profiles
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.cli import app
from asyncmcp_cli.protocol import codec

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def prefix() -> str:
    return f"o{uuid.uuid4().hex[:10]}"


@pytest.fixture
def env(moto: LocalEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "LOCALSTACK_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in moto.exports().items():
        monkeypatch.setenv(name, value)


def provision(*args: str) -> Result:
    return CliRunner().invoke(app, ["provision", "local", *args])


def report(*args: str) -> dict[str, Any]:
    done = provision(*args, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def acted(data: dict[str, Any], action: str) -> set[tuple[str, str]]:
    return {(a["kind"], a["name"]) for a in data["actions"] if a["action"] == action}


def queues(moto: LocalEndpoint, prefix: str) -> set[str]:
    urls = aws.client("sqs", moto.settings).list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    return {url.rsplit("/", 1)[-1] for url in urls}


def topics(moto: LocalEndpoint, prefix: str) -> set[str]:
    arns = [t["TopicArn"] for t in aws.client("sns", moto.settings).list_topics()["Topics"]]
    return {arn.rsplit(":", 1)[-1] for arn in arns if f":{prefix}-" in arn}


def reply_subscription(moto: LocalEndpoint, prefix: str) -> dict[str, str]:
    sns = aws.client("sns", moto.settings)
    arn = f"arn:aws:sns:us-east-1:123456789012:{prefix}-replies"
    (found,) = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    return sns.get_subscription_attributes(SubscriptionArn=found["SubscriptionArn"])["Attributes"]


def test_teardown_of_the_second_profile_leaves_the_first_ones_queues(
    moto: LocalEndpoint, env: None, prefix: str
) -> None:
    for name in ("one", "two"):  # two: everything already existed
        assert provision("--prefix", prefix, "--profile", name).exit_code == 0
    made = queues(moto, prefix)
    assert made == {f"{prefix}-{name}" for name in ("requests", "requests-dlq", "replies")} | {
        f"{prefix}-{name}" for name in ("sns-requests", "sns-requests-dlq", "sns-replies")
    }
    down = provision("--teardown", "--profile", "two")
    assert down.exit_code == 0, down.output
    assert queues(moto, prefix) == made
    assert len(topics(moto, prefix)) == 2

    # what each run reported: one created, two reused (used, not owned), and two's teardown kept it all
    assert provision("--prefix", prefix, "--profile", "two").exit_code == 0
    assert {a["action"] for a in report("--prefix", prefix, "--profile", "two")["actions"]} == {"reuse"}
    kept = report("--teardown", "--profile", "two")
    assert acted(kept, "delete") == set() and kept["profile_removed"]
    finished = report("--teardown", "--profile", "one")
    assert {a["action"] for a in finished["actions"]} == {"delete"}
    assert queues(moto, prefix) == set() and topics(moto, prefix) == set()


def test_teardown_of_a_removed_or_unknown_profile_is_one_line_and_deletes_nothing(
    moto: LocalEndpoint, env: None, prefix: str
) -> None:
    assert provision("--prefix", prefix, "--transport", "sqs", "--profile", "one").exit_code == 0
    assert provision("--prefix", f"{prefix}-2", "--transport", "sqs", "--profile", "two").exit_code == 0
    assert provision("--teardown", "--profile", "two").exit_code == 0
    present = queues(moto, prefix)
    assert len(present) == 3
    for name in ("two", "never-made"):
        # the options of a plan (here: one's prefix) do not stand in for a missing record
        again = provision("--teardown", "--profile", name, "--prefix", prefix, "--transport", "sqs")
        assert queues(moto, prefix) == present
        assert again.exit_code == 2, again.output
        assert again.stderr.startswith(f"error: no profile {name!r} to tear down") and again.stderr.count("\n") == 1
        assert "nothing was deleted" in again.stderr
        dry = provision("--teardown", "--dry-run", "--profile", name)
        assert dry.exit_code == 2 and dry.stderr.count("\n") == 1
    assert queues(moto, prefix) == present


def test_dry_run_lists_exactly_what_teardown_then_deletes(moto: LocalEndpoint, env: None, prefix: str) -> None:
    # one makes the SQS queues; two reuses them and creates the SNS+SQS side itself
    assert provision("--prefix", prefix, "--transport", "sqs", "--profile", "one").exit_code == 0
    assert provision("--prefix", prefix, "--profile", "two").exit_code == 0
    sqs_side = {("queue", f"{prefix}-{name}") for name in ("requests", "requests-dlq", "replies")}
    before = queues(moto, prefix) | topics(moto, prefix)

    dry = provision("--teardown", "--dry-run", "--profile", "two", "--json")
    assert queues(moto, prefix) | topics(moto, prefix) == before  # a dry run deletes nothing
    real = provision("--teardown", "--profile", "two", "--json")
    assert queues(moto, prefix) == {name for _, name in sqs_side} and topics(moto, prefix) == set()

    assert dry.exit_code == 0 and real.exit_code == 0, dry.output + real.output
    planned, done = json.loads(dry.stdout), json.loads(real.stdout)
    assert planned["dry_run"] and planned["profile"] == "two" and not done["dry_run"]
    assert acted(planned, "keep") == sqs_side
    for kept in (a for a in planned["actions"] if a["action"] == "keep"):
        assert "not created" in kept["detail"]
    assert len(acted(planned, "delete")) == 7  # 2 topics, 3 queues, 2 subscriptions
    assert acted(done, "delete") == acted(planned, "delete")
    assert acted(done, "keep") == acted(planned, "keep")
    assert {name for _, name in acted(done, "delete")} >= before - queues(moto, prefix)


def test_a_subscription_another_profile_made_is_not_rewritten_without_the_flag(
    moto: LocalEndpoint, env: None, prefix: str
) -> None:
    report("--prefix", prefix, "--transport", "sns+sqs", "--profile", "one")
    wanted = {codec.CLIENT_ID: [{"prefix": f"{prefix}-client-1."}]}
    assert json.loads(reply_subscription(moto, prefix)["FilterPolicy"]) == wanted

    refused = provision("--prefix", prefix, "--transport", "sns+sqs", "--sns-replies", "topic", "--profile", "two")
    assert json.loads(reply_subscription(moto, prefix).get("FilterPolicy") or "{}") == wanted
    assert refused.exit_code == 3, refused.output
    assert "--replace-subscription" in refused.stderr and refused.stderr.count("\n") == 1
    assert "two" not in profiles.names()  # refused before anything was made or written

    # asked for explicitly, it is changed (and still not two's to delete)
    forced = report(
        "--prefix", prefix, "--transport", "sns+sqs", "--sns-replies", "topic", "--profile", "two",
        "--replace-subscription",
    )  # fmt: skip
    assert ("subscription", f"{prefix}-replies → {prefix}-sns-replies") in acted(forced, "update")
    assert not json.loads(reply_subscription(moto, prefix).get("FilterPolicy") or "{}")
    assert acted(report("--teardown", "--profile", "two"), "delete") == set()


def test_dry_runs_and_real_runs_share_one_json_shape(moto: LocalEndpoint, env: None, prefix: str) -> None:
    runs = [
        report("--prefix", prefix, "--transport", "sqs", "--profile", "shape", "--dry-run"),
        report("--prefix", prefix, "--transport", "sqs", "--profile", "shape"),
        report("--teardown", "--profile", "shape", "--dry-run"),
        report("--teardown", "--profile", "shape"),
    ]
    keys = {frozenset(data) for data in runs}
    assert len(keys) == 1, keys
    assert {frozenset(action) for data in runs for action in data["actions"]} == {
        frozenset({"action", "kind", "name", "id", "owned", "detail"})
    }
    assert [data["dry_run"] for data in runs] == [True, False, True, False]
    assert [data["teardown"] for data in runs] == [False, False, True, True]
    assert {data["profile"] for data in runs} == {"shape"}


def test_what_provision_creates_is_tagged_with_its_profile(moto: LocalEndpoint, env: None, prefix: str) -> None:
    assert provision("--prefix", prefix, "--bucket", "--profile", "tagged").exit_code == 0
    wanted = {"asyncmcp:created-by": "asyncmcp", "asyncmcp:profile": "tagged"}
    sqs, sns, s3 = (aws.client(service, moto.settings) for service in ("sqs", "sns", "s3"))
    for name in queues(moto, prefix):
        assert sqs.list_queue_tags(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"]).get("Tags") == wanted
    for name in topics(moto, prefix):
        arn = f"arn:aws:sns:us-east-1:123456789012:{name}"
        assert {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]} == wanted
    tag_set = s3.get_bucket_tagging(Bucket=f"{prefix}-payloads-123456789012")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tag_set} == wanted
    assert len(queues(moto, prefix)) == 6 and len(topics(moto, prefix)) == 2

    # subscriptions take no tags: the profile records their ARNs, as owned
    (record,) = json.loads(profiles.path().read_text())["profiles"]["tagged"]["resources"][-2:-1]
    assert record["kind"] == "subscription" and record["owned"]
    assert record["id"] == reply_subscription(moto, prefix)["SubscriptionArn"]
    assert {a["action"] for a in report("--teardown", "--profile", "tagged")["actions"]} == {"delete"}


def test_a_queue_recreated_by_someone_else_since_is_kept(moto: LocalEndpoint, env: None, prefix: str) -> None:
    assert provision("--prefix", prefix, "--transport", "sqs", "--profile", "one").exit_code == 0
    sqs = aws.client("sqs", moto.settings)
    replies = f"{prefix}-replies"
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=replies)["QueueUrl"])
    sqs.create_queue(QueueName=replies)  # someone else's now, untagged
    down = provision("--teardown", "--profile", "one", "--json")
    assert queues(moto, prefix) == {replies}
    assert down.exit_code == 0, down.output
    (kept,) = [a for a in json.loads(down.stdout)["actions"] if a["action"] == "keep"]
    assert kept["name"] == replies and "tags" in kept["detail"]


def test_a_resource_another_profile_still_uses_passes_to_it(moto: LocalEndpoint, env: None, prefix: str) -> None:
    for name in ("one", "two"):
        assert provision("--prefix", prefix, "--transport", "sqs", "--profile", name).exit_code == 0
    first = provision("--teardown", "--profile", "one", "--json")
    assert len(queues(moto, prefix)) == 3
    assert first.exit_code == 0, first.output
    actions = json.loads(first.stdout)["actions"]
    assert {a["action"] for a in actions} == {"keep"} and all("'two'" in a["detail"] for a in actions)
    second = report("--teardown", "--profile", "two")
    assert len(acted(second, "delete")) == 3
    assert queues(moto, prefix) == set()
