"""Provisioning against a real moto server: what is made, idempotence, corrections, teardown."""

from __future__ import annotations

import json
import uuid

import pytest

from asyncmcp_cli import aws, profiles, provision
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.errors import UsageError
from asyncmcp_cli.protocol import codec


def spec(**choices: object) -> provision.Spec:
    return provision.Spec(prefix=f"p{uuid.uuid4().hex[:10]}", **choices)  # type: ignore[arg-type]


def queue_attributes(moto: LocalEndpoint, url: str) -> dict[str, str]:
    return aws.client("sqs", moto.settings).get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def subscription_attributes(moto: LocalEndpoint, topic_arn: str) -> list[dict[str, str]]:
    sns = aws.client("sns", moto.settings)
    found = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    return [sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"] for s in found]


def leftovers(moto: LocalEndpoint, prefix: str) -> list[str]:
    sqs, sns, s3 = (aws.client(service, moto.settings) for service in ("sqs", "sns", "s3"))
    queues = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"] if f":{prefix}-" in t["TopicArn"]]
    subscriptions = [
        s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"] if f":{prefix}-" in s["TopicArn"]
    ]
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(prefix)]
    return queues + topics + subscriptions + buckets


def test_provision_makes_everything_the_transports_need(moto: LocalEndpoint) -> None:
    choices = spec(bucket=True, max_receive_count=3)
    result = provision.run("local", choices, endpoint_url=moto.url)
    assert {s.action for s in result.steps} == {"create"}
    p = choices.prefix
    urls, arns = result.outcome.queue_urls, result.outcome.topic_arns

    redrive = json.loads(queue_attributes(moto, urls[f"{p}-requests"])["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{p}-requests-dlq")
    assert int(redrive["maxReceiveCount"]) == 3

    for reply_queue in (f"{p}-replies", f"{p}-sns-replies"):  # the outer bound on answers nobody collects
        assert queue_attributes(moto, urls[reply_queue])["MessageRetentionPeriod"] == "172800"
    assert queue_attributes(moto, urls[f"{p}-requests"])["MessageRetentionPeriod"] == "345600"  # SQS's default

    policy = json.loads(queue_attributes(moto, urls[f"{p}-sns-requests"])["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == arns[f"{p}-requests"]

    (server_sub,) = subscription_attributes(moto, arns[f"{p}-requests"])
    assert server_sub["RawMessageDelivery"] == "true"
    assert "FilterPolicy" not in server_sub or not json.loads(server_sub["FilterPolicy"])
    (client_sub,) = subscription_attributes(moto, arns[f"{p}-replies"])
    assert json.loads(client_sub["FilterPolicy"]) == {codec.CLIENT_ID: [{"prefix": f"{p}-client-1."}]}

    assert result.outcome.bucket == f"{p}-payloads-123456789012"
    rules = aws.client("s3", moto.settings).get_bucket_lifecycle_configuration(Bucket=result.outcome.bucket)["Rules"]
    expiries = {(rule["Filter"]["Prefix"], rule["Expiration"]["Days"]) for rule in rules}
    assert expiries == {("asyncmcp/payloads/", 1), ("asyncmcp/results/", 1), ("asyncmcp/tasks/", 7)}
    saved = profiles.load("local")
    assert saved is not None and saved == result.profile
    assert saved.transports["sqs"] == {
        "request_queue": urls[f"{p}-requests"],
        "reply_queue": urls[f"{p}-replies"],
        "allow_reply": f"{p}-*",
        "payload_bucket": result.outcome.bucket,
    }
    assert saved.transports["sns+sqs"]["client_id_prefix"] == f"{p}-client-1."
    assert "client_id" not in saved.transports["sns+sqs"]  # no fixed id: each client takes a fresh one
    assert saved.roles["dlq"] == urls[f"{p}-requests-dlq"]
    assert saved.endpoint_url == moto.url


def test_provisioning_twice_changes_nothing_and_a_changed_spec_is_corrected(moto: LocalEndpoint) -> None:
    choices = spec()
    provision.run("local", choices, endpoint_url=moto.url, profile_name="twice")
    again = provision.run("local", choices, endpoint_url=moto.url, profile_name="twice")
    assert {s.action for s in again.steps} == {"exists"}
    assert all(s.owned for s in again.steps)  # a rerun knows what its profile made

    changed = provision.Spec(**{**choices.__dict__, "raw_delivery": False, "max_receive_count": 7})
    result = provision.run("local", changed, endpoint_url=moto.url, profile_name="twice")
    updated = {(s.kind, s.name) for s in result.steps if s.action == "update"}
    p = choices.prefix
    assert updated == {
        ("queue", f"{p}-requests"),
        ("queue", f"{p}-sns-requests"),
        ("subscription", f"{p}-requests → {p}-sns-requests"),
        ("subscription", f"{p}-replies → {p}-sns-replies"),
    }
    redrive = json.loads(queue_attributes(moto, result.outcome.queue_urls[f"{p}-requests"])["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 7
    (server_sub,) = subscription_attributes(moto, result.outcome.topic_arns[f"{p}-requests"])
    assert server_sub["RawMessageDelivery"] == "false"


def test_teardown_removes_everything_and_the_profile(moto: LocalEndpoint) -> None:
    choices = spec(bucket=True, servers=2, clients=2, fifo=True)
    provision.run("local", choices, endpoint_url=moto.url, profile_name="mine")
    assert leftovers(moto, choices.prefix)
    # the profile's record says what to delete: teardown needs no flags beyond the target and the profile
    result = provision.teardown("local", endpoint_url=moto.url, profile_name="mine")
    assert {s.action for s in result.steps} == {"delete"}
    assert result.profile_removed
    assert leftovers(moto, choices.prefix) == []
    assert "mine" not in profiles.names()
    with pytest.raises(UsageError, match="no profile 'mine' to tear down"):
        provision.teardown("local", endpoint_url=moto.url, profile_name="mine")


def test_a_bucket_with_objects_is_kept_and_the_profile_with_it(moto: LocalEndpoint) -> None:
    choices = spec(bucket=True, transports=("sqs",))
    result = provision.run("local", choices, endpoint_url=moto.url, profile_name="full")
    bucket = result.outcome.bucket
    s3 = aws.client("s3", moto.settings)
    s3.put_object(Bucket=bucket, Key="payload", Body=b"x")
    down = provision.teardown("local", endpoint_url=moto.url, profile_name="full")
    kept = [s for s in down.steps if s.kind == "bucket"]
    assert [(s.action, s.name) for s in kept] == [("keep", bucket)]
    assert not down.profile_removed and "full" in profiles.names()
    s3.delete_object(Bucket=bucket, Key="payload")
    finished = provision.teardown("local", endpoint_url=moto.url, profile_name="full")
    assert [(s.action, s.kind) for s in finished.steps] == [("delete", "bucket")]
    assert finished.profile_removed and leftovers(moto, choices.prefix) == []


def test_a_profile_without_a_record_of_what_it_created_deletes_nothing(moto: LocalEndpoint) -> None:
    choices = spec(transports=("sqs",))
    provision.run("local", choices, endpoint_url=moto.url, profile_name="older")
    made = leftovers(moto, choices.prefix)
    # as an asyncmcp from before ownership was recorded wrote it: the spec, no resources
    written = json.loads(profiles.path().read_text())
    written["profiles"]["older"].pop("resources", None)
    profiles.path().write_text(json.dumps(written))

    down = provision.teardown("local", endpoint_url=moto.url, profile_name="older")
    assert {s.action for s in down.steps} == {"keep"} and len(down.steps) == 3
    assert "did not record what it created" in down.steps[0].detail
    assert sorted(leftovers(moto, choices.prefix)) == sorted(made)
    assert down.profile_removed


def test_a_reply_queue_made_before_retention_was_set_is_corrected(moto: LocalEndpoint) -> None:
    choices = spec(transports=("sqs",))
    p = choices.prefix
    url = aws.client("sqs", moto.settings).create_queue(QueueName=f"{p}-replies")["QueueUrl"]
    result = provision.run("local", choices, endpoint_url=moto.url, write_profile=False)
    assert ("update", f"{p}-replies") in {(s.action, s.name) for s in result.steps}
    assert queue_attributes(moto, url)["MessageRetentionPeriod"] == "172800"
