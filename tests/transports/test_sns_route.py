"""The SNS+SQS reply route: client id prefixes in filter policies, and profiles written before them.

Against a real moto server, with layouts made by `asyncmcp_cli.provision`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from asyncmcp_cli import aws, profiles, provision
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.aws.sns_topics import SnsTopics
from asyncmcp_cli.client import open_client
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.sns import SnsSqsTransport, check_reply_route
from tests.testapp import ControlledApp
from tests.transports.contract import running

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(profiles.CONFIG_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)


def provisioned(moto: LocalEndpoint, name: str, **spec: object) -> provision.Result:
    prefix = f"r{uuid.uuid4().hex[:10]}"
    choices = provision.Spec(prefix=prefix, transports=("sns+sqs",), **spec)  # type: ignore[arg-type]
    return provision.run("local", choices, endpoint_url=moto.url, profile_name=name)


def reply_subscription(moto: LocalEndpoint, result: provision.Result) -> dict[str, str]:
    sns = aws.client("sns", moto.settings)
    topic = result.outcome.topic_arns[result.plan.clients[0].reply_topic]  # type: ignore[union-attr]
    (found,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    return sns.get_subscription_attributes(SubscriptionArn=found["SubscriptionArn"])["Attributes"]


def transport_of(name: str, **overrides: object) -> SnsSqsTransport:
    """The transport `connect --profile NAME` would make."""
    profile = profiles.load(name, required=True)
    assert profile is not None
    values: dict[str, object] = dict(profile.transport_settings("sns+sqs")) | {"wait_seconds": 2}
    return SnsSqsTransport(**(values | overrides))


async def test_the_route_check_admits_ids_under_the_prefix_and_names_it_when_refusing(
    moto: LocalEndpoint, config: None
) -> None:
    result = provisioned(moto, "route", clients=2)
    first = result.plan.clients[0]  # type: ignore[union-attr]
    transport = transport_of("route")
    assert first.client_id_prefix == f"{result.plan.spec.prefix}-client-1."  # type: ignore[union-attr]
    topics = SnsTopics(transport.options.aws)
    reply_arn = await topics.arn_for(transport.options.reply_topic)
    reply_url = transport.options.reply_queue

    await check_reply_route(topics, reply_arn, reply_url, f"{first.client_id_prefix}{uuid.uuid4().hex}")
    await check_reply_route(topics, reply_arn, reply_url, transport.new_client_id())
    for refused in ("someone-else", f"{result.plan.spec.prefix}-client-10.abc", first.client_id_prefix[:-1]):  # type: ignore[union-attr,index]
        with pytest.raises(ConfigurationError) as caught:
            await check_reply_route(topics, reply_arn, reply_url, refused)
        message = str(caught.value)
        assert f"only receives client ids starting with {first.client_id_prefix!r}" in message
        assert f"not {refused!r}" in message and f"-o client_id_prefix={first.client_id_prefix}" in message


async def test_each_session_takes_a_fresh_id_under_the_profiles_prefix(moto: LocalEndpoint, config: None) -> None:
    provisioned(moto, "fresh")
    transport = transport_of("fresh")
    prefix = transport.options.client_id_prefix
    assert prefix and transport.options.client_id is None
    ids = {transport.new_client_id() for _ in range(50)}
    assert len(ids) == 50 and all(i.startswith(prefix) and len(i) >= len(prefix) + 32 for i in ids)
    assert transport.client_id_for(f"{prefix}mine") == f"{prefix}mine"
    with pytest.raises(ConfigurationError, match=r"'batch-7' does not start with .*leave out --client-id"):
        transport.client_id_for("batch-7")


async def test_a_profile_from_before_prefixes_still_connects_and_reprovisioning_moves_it_over(
    moto: LocalEndpoint, config: None
) -> None:
    result = provisioned(moto, "old")
    spec = result.plan.spec  # type: ignore[union-attr]
    fixed = f"{spec.prefix}-client-1"
    # what an earlier asyncmcp wrote: one fixed id in the profile and in the reply queue's filter policy
    sns = aws.client("sns", moto.settings)
    sns.set_subscription_attributes(
        SubscriptionArn=reply_subscription(moto, result)["SubscriptionArn"],
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({codec.CLIENT_ID: [fixed]}),
    )
    old = profiles.load("old", required=True)
    assert old is not None
    del old.transports["sns+sqs"]["client_id_prefix"]
    old.transports["sns+sqs"]["client_id"] = fixed
    profiles.save(old)

    app = ControlledApp()
    transport = transport_of("old")
    async with running(app, transport):
        async with open_client(transport, timeout=20) as client:  # the fixed id: it still works
            assert (await client.call_tool("echo", {"text": "old"})).content[0].text == "old"
        # a fresh id (each proxy session takes one) cannot get answers there: say what to do
        with pytest.raises(ConfigurationError, match=r"only receives client ids 'r\w+-client-1'.*provision` again"):
            async with transport.connect(client_id=transport.new_client_id()):
                pass

    again = provision.run("local", spec, endpoint_url=moto.url, profile_name="old")
    updated = [s for s in again.outcome.steps if s.kind == "subscription" and s.action == "update"]
    assert [s.name for s in updated] == [f"{spec.prefix}-replies → {spec.prefix}-sns-replies"]
    wanted = {codec.CLIENT_ID: [{"prefix": f"{fixed}."}]}
    assert json.loads(reply_subscription(moto, again)["FilterPolicy"]) == wanted
    moved = transport_of("old")
    assert (moved.options.client_id, moved.options.client_id_prefix) == (None, f"{fixed}.")
    async with running(app, moved), open_client(moved, timeout=20) as client:
        assert (await client.call_tool("echo", {"text": "moved"})).content[0].text == "moved"
