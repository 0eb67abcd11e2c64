"""Plans are pure data: names, order, DLQs, FIFO, fan-out, validation."""

from __future__ import annotations

import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.provision import Spec, build_plan
from asyncmcp_cli.provision.plan import Bucket, Queue, Subscription, Topic


def names(spec: Spec, kind: type) -> list[str]:
    return [r.name for r in build_plan(spec).resources if isinstance(r, kind)]


def test_the_default_plan() -> None:
    plan = build_plan(Spec())
    assert names(Spec(), Queue) == [
        "asyncmcp-requests-dlq",
        "asyncmcp-requests",
        "asyncmcp-replies",
        "asyncmcp-sns-requests-dlq",
        "asyncmcp-sns-requests",
        "asyncmcp-sns-replies",
    ]
    assert names(Spec(), Topic) == ["asyncmcp-requests", "asyncmcp-replies"]
    subscriptions = [r for r in plan.resources if isinstance(r, Subscription)]
    assert [(s.topic, s.queue, s.raw_delivery, s.client_id_prefix) for s in subscriptions] == [
        ("asyncmcp-requests", "asyncmcp-sns-requests", True, None),
        ("asyncmcp-replies", "asyncmcp-sns-replies", True, "asyncmcp-client-1."),
    ]
    assert subscriptions[1].filter_policy == {"asyncmcp-client-id": [{"prefix": "asyncmcp-client-1."}]}
    requests = next(r for r in plan.resources if isinstance(r, Queue) and r.role == "requests")
    assert (requests.dlq, requests.max_receive_count) == ("asyncmcp-requests-dlq", 5)
    assert not any(isinstance(r, Bucket) for r in plan.resources)


def test_every_resource_comes_after_what_it_needs() -> None:
    plan = build_plan(Spec(servers=2, clients=3, sns_replies="topic"))
    seen: set[str] = set()
    for resource in plan.resources:
        if isinstance(resource, Queue) and resource.dlq:
            assert resource.dlq in seen
        if isinstance(resource, Subscription):
            assert {resource.topic, resource.queue} <= seen
        seen.add(resource.name)


def test_fan_out_and_per_client_reply_topics() -> None:
    plan = build_plan(Spec(prefix="x", transports=("sns+sqs",), servers=2, clients=2, sns_replies="topic"))
    assert plan.server_queues == ("x-sns-requests", "x-sns-requests-2")
    assert [(c.client_id_prefix, c.reply_topic, c.reply_queue) for c in plan.clients] == [
        (None, "x-replies", "x-sns-replies"),
        (None, "x-replies-2", "x-sns-replies-2"),
    ]
    assert "x-requests" not in names(plan.spec, Queue)  # no SQS-transport queues asked for


def test_fifo_names_and_no_dlqs() -> None:
    spec = Spec(prefix="f", fifo=True, max_receive_count=0, bucket=True)
    assert names(spec, Queue) == ["f-requests.fifo", "f-replies.fifo", "f-sns-requests.fifo", "f-sns-replies.fifo"]
    assert names(spec, Topic) == ["f-requests.fifo", "f-replies.fifo"]
    assert build_plan(spec).resources[-1].name == "f-payloads-<account>"
    assert build_plan(Spec(prefix="f", fifo=True)).resources[0].name == "f-requests-dlq.fifo"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (Spec(prefix="Has_Caps"), "prefix"),
        (Spec(prefix="x" * 41), "prefix"),
        (Spec(transports=("kafka",)), "transports"),
        (Spec(max_receive_count=-1), "max receive count"),
        (Spec(servers=0), "servers"),
        (Spec(sns_replies="broadcast"), "sns replies"),  # type: ignore[arg-type]
    ],
)
def test_bad_choices_are_refused(spec: Spec, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_plan(spec)
