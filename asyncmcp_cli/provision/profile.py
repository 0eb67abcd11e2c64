"""The profile a provisioning run leaves behind: what `serve`, `connect` and `tail` need to find it all."""

from __future__ import annotations

from dataclasses import asdict

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.profiles import Profile
from asyncmcp_cli.provision.apply import Outcome
from asyncmcp_cli.provision.ownership import Recorded
from asyncmcp_cli.provision.plan import Plan, Queue, Spec

_PAIRS = {"requests": "sns-requests", "replies": "sns-replies", "dlq": "sns-dlq"}


def profile_for(name: str, plan: Plan, outcome: Outcome) -> Profile:
    spec = plan.spec
    urls, arns = outcome.queue_urls, outcome.topic_arns
    allow = f"{spec.prefix}-*"
    transports: dict[str, dict[str, str]] = {}
    if "sqs" in spec.transports:
        transports["sqs"] = {
            "request_queue": urls[_named(plan, "requests")],
            "reply_queue": urls[_named(plan, "replies")],
            "allow_reply": allow,
        }
    if "sns+sqs" in spec.transports:
        client = plan.clients[0]
        section = {
            "request_topic": arns[_topic(plan, "request-topic")],
            "request_queue": urls[plan.server_queues[0]],
            "reply_topic": arns[client.reply_topic],
            "reply_queue": urls[client.reply_queue],
            "allow_reply": allow,
        }
        if client.client_id_prefix:  # each client session takes a fresh id under it (see `plan`)
            section["client_id_prefix"] = client.client_id_prefix
        transports["sns+sqs"] = section
    if spec.tap:  # every peer of the profile copies what it sends to the tap topic, for `tail --follow`
        for section in transports.values():
            section["tap"] = arns[_topic(plan, "tap-topic")]
    if outcome.bucket:  # large payloads go through it (both transports read `payload_bucket`)
        for section in transports.values():
            section["payload_bucket"] = outcome.bucket
    roles = {r.role: urls[r.name] for r in plan.resources if isinstance(r, Queue) and r.role}
    for plain, sns in _PAIRS.items():  # with only SNS+SQS provisioned, the short roles name its queues
        if plain not in roles and sns in roles:
            roles[plain] = roles[sns]
    return Profile(
        name=name,
        target=outcome.target.name,
        endpoint_url=outcome.target.endpoint,
        region=outcome.target.region,
        transports=transports,
        roles=roles,
        spec=spec_to_dict(spec),
        bucket=outcome.bucket,
        resources=[Recorded(s.kind, s.name, s.id or s.name, s.owned).to_dict() for s in outcome.steps],
    )


def spec_to_dict(spec: Spec) -> dict[str, object]:
    data = asdict(spec)
    data["transports"] = list(spec.transports)
    return data


def spec_from_dict(data: dict[str, object]) -> Spec:
    values = dict(data)
    values["transports"] = tuple(values.get("transports", ()))  # type: ignore[arg-type]
    try:
        return Spec(**values).validate()  # type: ignore[arg-type]
    except TypeError as exc:
        raise ConfigurationError(f"the profile's provisioning record is malformed: {exc}") from None


def _named(plan: Plan, role: str) -> str:
    return next(r.name for r in plan.resources if isinstance(r, Queue) and r.role == role)


def _topic(plan: Plan, role: str) -> str:
    return next(r.name for r in plan.resources if r.kind == "topic" and r.role == role)
