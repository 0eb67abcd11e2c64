"""The documents `provision` writes: redrive policies, queue policies for SNS, a payload expiry rule.

Comparisons are on parsed documents, so an attribute AWS returns with other
spacing or types (``"5"`` vs ``5``) still counts as unchanged: provisioning
twice changes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from asyncmcp_cli.delivery.bucket_layout import PAYLOADS_PREFIX, RESULTS_PREFIX, TASKS_PREFIX

PAYLOAD_EXPIRY_DAYS = 1
TASK_EXPIRY_DAYS = 7
"""The outer bound on a task in an ``s3://`` task store; a task's own TTL (default one hour) is
enforced on every read, this removes the ones nobody reads again."""


def redrive_policy(dlq_arn: str, max_receive_count: int) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})


def same_redrive(current: str | None, wanted: str | None) -> bool:
    def norm(text: str | None) -> tuple[str, int] | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return str(data["deadLetterTargetArn"]), int(data["maxReceiveCount"])
        except (ValueError, KeyError, TypeError):
            return ("?", -1)

    return norm(current) == norm(wanted)


def statement_id(topic_arn: str) -> str:
    """A Sid naming the topic (letters and digits only, as IAM prefers)."""
    name = topic_arn.rsplit(":", 1)[-1]
    return "AsyncmcpFrom" + re.sub(r"[^A-Za-z0-9]", "", name.title())


def topic_statement(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """Lets SNS deliver messages from exactly this topic to the queue."""
    return {
        "Sid": statement_id(topic_arn),
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }


def with_topic_statement(current: str | None, queue_arn: str, topic_arn: str) -> str | None:
    """The queue policy with our statement for `topic_arn` added, or None when it is already there."""
    policy = _load(current)
    wanted = topic_statement(queue_arn, topic_arn)
    statements = [s for s in policy.get("Statement", []) if isinstance(s, dict)]
    if any(_same_statement(s, wanted) for s in statements):
        return None
    policy["Statement"] = [s for s in statements if s.get("Sid") != wanted["Sid"]] + [wanted]
    return json.dumps(policy)


def _same_statement(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def norm(statement: dict[str, Any]) -> tuple[Any, ...]:
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        action = statement.get("Action")
        condition = statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn")
        return (
            statement.get("Sid"),
            statement.get("Effect"),
            service if isinstance(service, str) else tuple(service or ()),
            action if isinstance(action, str) else tuple(action or ()),
            statement.get("Resource"),
            condition,
        )

    return norm(current) == norm(wanted)


def _load(text: str | None) -> dict[str, Any]:
    if text:
        try:
            data = json.loads(text)
            if isinstance(data, dict):
                data.setdefault("Version", "2012-10-17")
                return data
        except ValueError:
            pass
    return {"Version": "2012-10-17", "Statement": []}


def expiry_rules() -> list[dict[str, Any]]:
    """Lifecycle rules for what asyncmcp keeps in its bucket: claim-check payloads a crash left
    behind (receivers delete the rest), stored responses of the ``s3://`` result cache, and tasks
    of the ``s3://`` task store (``serve --task-store``)."""
    return [
        _expiry("asyncmcp-payload-expiry", PAYLOADS_PREFIX),
        _expiry("asyncmcp-result-expiry", RESULTS_PREFIX),
        _expiry("asyncmcp-task-expiry", TASKS_PREFIX, TASK_EXPIRY_DAYS),
    ]


def _expiry(rule_id: str, prefix: str, days: int = PAYLOAD_EXPIRY_DAYS) -> dict[str, Any]:
    return {
        "ID": rule_id,
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Expiration": {"Days": days},
    }


def same_rule(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def norm(rule: dict[str, Any]) -> tuple[Any, ...]:
        prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix"))
        return rule.get("ID"), rule.get("Status"), prefix, rule.get("Expiration", {}).get("Days")

    return norm(current) == norm(wanted)
