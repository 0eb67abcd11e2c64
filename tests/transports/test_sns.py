"""The SNS+SQS transport against a real moto server: the contract, round trips through SNS envelopes,
fan-out, filter policies, refused reply topics and bad input (raw delivery on and off).

Topics, queues and subscriptions are made by `asyncmcp_cli.provision`, as a user would make them.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

import anyio
import pytest

from asyncmcp_cli import aws, provision
from asyncmcp_cli.aws import sns_envelope
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.client import open_client
from asyncmcp_cli.delivery.deferred import collect, fire
from asyncmcp_cli.delivery.receipts import Receipt
from asyncmcp_cli.errors import ConfigurationError, TransportError
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.base import Transport
from asyncmcp_cli.transports.registry import resolve
from asyncmcp_cli.transports.sns import SnsSqsTransport
from tests.conftest import wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import TransportContract, running

pytestmark = pytest.mark.anyio


@dataclass
class SnsSetup:
    """A provisioned SNS+SQS layout with a unique prefix, and handles to look at it from outside."""

    endpoint: LocalEndpoint
    result: provision.Result

    @property
    def prefix(self) -> str:
        return self.result.plan.spec.prefix

    @property
    def sns(self):
        return aws.client("sns", self.endpoint.settings)

    @property
    def sqs(self):
        return aws.client("sqs", self.endpoint.settings)

    def url(self, queue: str) -> str:
        return self.result.outcome.queue_urls[queue]

    def arn(self, topic: str) -> str:
        return self.result.outcome.topic_arns[topic]

    def transport(self, *, server: int = 0, client: int = 0, **options: object) -> SnsSqsTransport:
        plan = self.result.plan
        route = plan.clients[client]
        values: dict[str, object] = {
            "endpoint_url": self.endpoint.url,
            "request_topic": self.arn(f"{self.prefix}-requests{'.fifo' if plan.spec.fifo else ''}"),
            "request_queue": self.url(plan.server_queues[server]),
            "reply_topic": self.arn(route.reply_topic),
            "reply_queue": self.url(route.reply_queue),
            "client_id_prefix": route.client_id_prefix,
            "allow_reply": (self.prefix + "-*",),
            "wait_seconds": 2,
        }
        return SnsSqsTransport(**(values | options))

    def publish(self, topic_arn: str, body: str, **attributes: str) -> None:
        self.sns.publish(
            TopicArn=topic_arn,
            Message=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )

    def drain(self, url: str) -> list[tuple[str, dict[str, str]]]:
        """Take every visible message off a queue, unwrapped: (body, attributes)."""
        taken = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return taken
            for raw in messages:
                attributes = {k: v["StringValue"] for k, v in raw.get("MessageAttributes", {}).items()}
                envelope = sns_envelope.parse(raw["Body"])
                if envelope is None:
                    taken.append((raw["Body"], attributes))
                else:
                    taken.append((envelope.message, envelope.attributes | attributes))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])


def provisioned(moto: LocalEndpoint, **spec: object) -> SnsSetup:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    full = {"transports": ("sns+sqs",), "sns_replies": "topic"} | spec
    result = provision.run("local", provision.Spec(prefix=prefix, **full), endpoint_url=moto.url, write_profile=False)
    return SnsSetup(moto, result)


class TestSnsContract(TransportContract):
    """The whole contract with raw message delivery; envelopes are covered below, where they differ."""

    @pytest.fixture
    def transport(self, moto: LocalEndpoint) -> SnsSqsTransport:
        self.setup = provisioned(moto)
        return self.setup.transport()

    async def inject_reply(self, transport: Transport, client_id: str, body: str) -> None:
        assert isinstance(transport, SnsSqsTransport)
        self.setup.publish(transport.options.reply_topic, body, **{codec.CLIENT_ID: client_id})


@pytest.mark.parametrize("era", ["stateless", "handshake"])
async def test_round_trips_through_sns_envelopes(moto: LocalEndpoint, era: str) -> None:
    """Raw delivery off on both subscriptions: requests and responses arrive enveloped, attributes inside."""
    setup = provisioned(moto, raw_delivery=False)
    transport = setup.transport()
    answers: list[str] = []
    async with (
        running(ControlledApp(), transport),
        open_client(transport, era=era, timeout=20) as client,
        anyio.create_task_group() as tg,
    ):
        for n in range(5):
            tg.start_soon(_echo_into, client, f"e{n}", answers)
    assert sorted(answers) == [f"e{n}" for n in range(5)]


async def _echo_into(client: object, text: str, answers: list[str]) -> None:
    result = await client.call_tool("echo", {"text": text})  # type: ignore[attr-defined]
    answers.append(result.content[0].text)


CALL = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {
        "name": "echo",
        "arguments": {"text": "by hand"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    },
}


async def test_fan_out_to_two_servers_and_each_client_gets_only_its_own_responses(moto: LocalEndpoint) -> None:
    setup = provisioned(moto, sns_replies="shared", servers=2, clients=2)
    apps = [ControlledApp(), ControlledApp()]
    answers: dict[int, list[str]] = {0: [], 1: []}
    async with running(apps[0], setup.transport(server=0)), running(apps[1], setup.transport(server=1)):

        async def client_session(index: int) -> None:
            async with open_client(setup.transport(client=index), timeout=20) as client:
                for n in range(3):
                    result = await client.call_tool("echo", {"text": f"c{index}-{n}"})
                    answers[index].append(result.content[0].text)

        async with anyio.create_task_group() as tg:
            tg.start_soon(client_session, 0)
            tg.start_soon(client_session, 1)
        # fan-out: both servers ran every request, from both clients
        expected = {f"echo:c{i}-{n}" for i in range(2) for n in range(3)}
        await wait_until(lambda: all(set(app.executions) == expected for app in apps))
        for server in setup.result.plan.server_queues:
            await wait_until(lambda server=server: _counts(setup, setup.url(server)) == (0, 0))
    assert answers == {0: ["c0-0", "c0-1", "c0-2"], 1: ["c1-0", "c1-1", "c1-2"]}
    # whatever is left on a client's queue (the second server's duplicate answers) is that client's own
    for route in setup.result.plan.clients:
        leftovers = setup.drain(setup.url(route.reply_queue))
        assert route.client_id_prefix
        assert all(attrs[codec.CLIENT_ID].startswith(route.client_id_prefix) for _, attrs in leftovers)


@pytest.mark.parametrize("raw_delivery", [True, False])
async def test_filter_policy_delivers_a_response_only_to_its_client(moto: LocalEndpoint, raw_delivery: bool) -> None:
    setup = provisioned(moto, sns_replies="shared", clients=2, raw_delivery=raw_delivery)
    first, second = setup.result.plan.clients
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {}})
    client_id = f"{first.client_id_prefix}{uuid.uuid4().hex}"
    setup.publish(setup.arn(first.reply_topic), body, **{codec.CLIENT_ID: client_id, "extra": "kept"})
    received: list[tuple[str, dict[str, str]]] = []
    await wait_until(lambda: received.extend(setup.drain(setup.url(first.reply_queue))) or received)
    assert received == [(body, {codec.CLIENT_ID: client_id, "extra": "kept"})]
    assert setup.drain(setup.url(second.reply_queue)) == []


async def test_refused_reply_topics_get_nothing_and_are_logged(
    moto: LocalEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    setup = provisioned(moto)
    outsider = setup.sns.create_topic(Name=f"elsewhere-{setup.prefix}")["TopicArn"]
    probe = setup.sqs.create_queue(QueueName=f"probe-{setup.prefix}")["QueueUrl"]
    probe_arn = setup.sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    setup.sns.subscribe(
        TopicArn=outsider, Protocol="sqs", Endpoint=probe_arn, Attributes={"RawMessageDelivery": "true"}
    )
    transport = setup.transport()
    request_url = transport.options.request_queue
    caplog.set_level(logging.WARNING)
    async with running(ControlledApp(), transport):
        topic = transport.options.request_topic
        setup.publish(topic, json.dumps(CALL), **{codec.CLIENT_ID: "c1", codec.REPLY_TO: outsider})
        setup.publish(
            topic,
            json.dumps(CALL),
            **{codec.CLIENT_ID: "c2", codec.REPLY_TO: setup.url(setup.result.plan.clients[0].reply_queue)},
        )
        await wait_until(lambda: sum("refusing reply address" in r.getMessage() for r in caplog.records) >= 2)
        await wait_until(lambda: _counts(setup, request_url) == (0, 0))
    assert setup.drain(probe) == []


@pytest.mark.parametrize("raw_delivery", [True, False])
async def test_bad_input_is_answered_and_the_server_keeps_serving(moto: LocalEndpoint, raw_delivery: bool) -> None:
    setup = provisioned(moto, raw_delivery=raw_delivery)
    transport = setup.transport()
    route = setup.result.plan.clients[0]
    reply_topic = setup.arn(route.reply_topic)
    async with running(ControlledApp(), transport):
        topic = transport.options.request_topic
        setup.publish(topic, "{not json", **{codec.CLIENT_ID: "c1", codec.REPLY_TO: reply_topic})
        setup.publish(topic, "no routing at all")
        errors: list[dict] = []
        await wait_until(
            lambda: errors.extend(json.loads(b) for b, _ in setup.drain(setup.url(route.reply_queue))) or errors
        )
        assert errors[0]["error"]["code"] == -32700
        async with open_client(transport, timeout=20) as client:
            assert (await client.call_tool("echo", {"text": "still up"})).content[0].text == "still up"


async def test_an_oversize_response_becomes_a_json_rpc_error(moto: LocalEndpoint) -> None:
    from mcp.shared.exceptions import MCPError

    setup = provisioned(moto)
    transport = setup.transport()
    async with running(ControlledApp(), transport), open_client(transport, timeout=20) as client:
        with pytest.raises(MCPError, match="exceeds"):
            await client.call_tool("big", {"size": 300_000})
        assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"


async def test_a_large_response_travels_through_the_payload_bucket(moto: LocalEndpoint) -> None:
    setup = provisioned(moto, bucket=True, raw_delivery=False)
    transport = setup.transport(payload_bucket=setup.result.outcome.bucket)
    async with running(ControlledApp(), transport), open_client(transport, timeout=20) as client:
        result = await client.call_tool("big", {"size": 300_000})
    assert len(result.content[0].text) == 300_000


async def test_fifo_topics_and_queues_round_trip(moto: LocalEndpoint) -> None:
    setup = provisioned(moto, fifo=True)
    transport = setup.transport()
    assert transport.options.request_topic.endswith(".fifo")
    async with running(ControlledApp(), transport), open_client(transport, timeout=20) as client:
        for n in range(3):
            with anyio.fail_after(5):  # not a 20 s long poll per call
                assert (await client.call_tool("echo", {"text": f"f{n}"})).content[0].text == f"f{n}"


async def test_connect_fails_fast_when_no_response_could_arrive(moto: LocalEndpoint) -> None:
    setup = provisioned(moto, sns_replies="shared")
    stray = setup.sqs.create_queue(QueueName=f"{setup.prefix}-stray")["QueueUrl"]
    with pytest.raises(ConfigurationError, match="not subscribed"):
        async with setup.transport(reply_queue=stray).connect():
            pass
    # an explicit id outside the profile's prefix is refused before anything is looked up or sent
    with pytest.raises(ConfigurationError, match=r"'someone-else' does not start with '.*-client-1\.'"):
        async with setup.transport().connect(client_id="someone-else"):
            pass
    # without the prefix configured, the route check reads it from the filter policy and refuses
    with pytest.raises(ConfigurationError, match=r"filter policy.*client_id_prefix=t\w+-client-1\."):
        async with setup.transport(client_id_prefix=None).connect():
            pass


async def test_a_missing_request_topic_is_a_clear_error(moto: LocalEndpoint) -> None:
    setup = provisioned(moto)
    with pytest.raises(TransportError, match=r"no-such-topic.*does not exist"):
        async with setup.transport(request_topic="asyncmcp-no-such-topic").connect():
            pass


def test_registry_resolves_the_url_form() -> None:
    transport = resolve("sns+sqs://my-requests?request_queue=my-queue&reply_topic=my-replies&client_id=c9")
    assert isinstance(transport, SnsSqsTransport)
    described = transport.describe()
    assert (described["transport"], described["request_topic"], described["request_queue"]) == (
        "sns+sqs",
        "my-requests",
        "my-queue",
    )
    assert transport.options.client_id == "c9"


def _counts(setup: SnsSetup, url: str) -> tuple[int, int]:
    attrs = setup.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.mark.parametrize("raw_delivery", [True, False])
async def test_fire_now_collect_later_through_topics(moto: LocalEndpoint, raw_delivery: bool) -> None:
    setup = provisioned(moto, sns_replies="shared", clients=2, raw_delivery=raw_delivery)
    transport = setup.transport(client=1)  # the second client: its reply queue filters on its own id
    receipt = await fire(transport, lambda c: c.call_tool("echo", {"text": "published"}), name="echo")
    assert receipt.transport == "sns+sqs"
    prefix = setup.result.plan.clients[1].client_id_prefix
    assert prefix and receipt.client_id.startswith(prefix) and len(receipt.client_id) > len(prefix)
    assert receipt.reply_queue == setup.url(setup.result.plan.clients[1].reply_queue)
    assert (await collect(receipt)).replies == []  # no server yet

    app = ControlledApp()
    async with running(app, transport):
        collected = await collect(Receipt.parse(receipt.encode()), wait=20)  # as another process would
    [reply] = collected.replies
    assert reply.result["content"][0]["text"] == "published"
    assert app.executions["echo:published"] == 1


async def test_fire_fails_fast_when_the_answer_could_never_arrive(moto: LocalEndpoint) -> None:
    setup = provisioned(moto, sns_replies="shared", clients=2)
    with pytest.raises(ConfigurationError, match="does not start with"):
        await fire(setup.transport(client_id="someone-else"), lambda c: c.call_tool("echo", {"text": "x"}))
    with pytest.raises(ConfigurationError, match="filter policy"):
        await fire(setup.transport(client_id_prefix=None), lambda c: c.call_tool("echo", {"text": "x"}))
