"""What exists at a provisioning target, and whose it is: the look-ups creating and tearing down share.

Synchronous (provisioning is a one-shot command); botocore errors are mapped
to the `AsyncMCPError` tree like everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import botocore.exceptions

from asyncmcp_cli import aws
from asyncmcp_cli.aws.sns_topics import topic_arn
from asyncmcp_cli.errors import ConfigurationError, QueueNotFoundError, TransportError
from asyncmcp_cli.provision.targets import Target

T = TypeVar("T")
_NOT_FOUND = {"NotFound", "NotFoundException", "ResourceNotFound", "ResourceNotFoundException"}


def call(fn: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fn(**kwargs)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise aws.map_error(exc) from exc


class Lookups:
    """Names to URLs and ARNs, existence and tags, in one account at one target."""

    def __init__(self, target: Target, account: str) -> None:
        self.target = target
        self.account = account
        self.sqs = target.client("sqs")
        self.sns = target.client("sns")
        self.s3 = target.client("s3")
        self._partition = aws.partition_for(target.region)

    # -- queues -----------------------------------------------------------

    def queue_url(self, name: str) -> str | None:
        try:
            return call(self.sqs.get_queue_url, QueueName=name)["QueueUrl"]
        except QueueNotFoundError:
            return None

    def queue_arn(self, name: str) -> str:
        return f"arn:{self._partition}:sqs:{self.target.region}:{self.account}:{name}"

    def queue_tags(self, url: str) -> dict[str, str]:
        return dict(call(self.sqs.list_queue_tags, QueueUrl=url).get("Tags") or {})

    # -- topics and subscriptions -----------------------------------------

    def topic_arn(self, name: str) -> str:
        return topic_arn(name, region=self.target.region, account=self.account)

    def topic_exists(self, arn: str) -> bool:
        try:
            call(self.sns.get_topic_attributes, TopicArn=arn)
        except TransportError as exc:
            if aws.error_code(exc) in _NOT_FOUND:
                return False
            raise
        return True

    def topic_tags(self, arn: str) -> dict[str, str]:
        tags = call(self.sns.list_tags_for_resource, ResourceArn=arn).get("Tags") or []
        return {tag["Key"]: tag["Value"] for tag in tags}

    def subscription_exists(self, arn: str) -> bool:
        try:
            call(self.sns.get_subscription_attributes, SubscriptionArn=arn)
        except TransportError as exc:
            if aws.error_code(exc) in _NOT_FOUND:
                return False
            raise
        return True

    # -- buckets ----------------------------------------------------------

    def bucket_exists(self, name: str) -> bool:
        try:
            call(self.s3.head_bucket, Bucket=name)
        except TransportError as exc:
            code = aws.error_code(exc)
            if code in {"404", "NoSuchBucket", "NotFound"}:
                return False
            if code in {"403", "AccessDenied"}:
                raise ConfigurationError(
                    f"bucket name {name!r} is taken by another account; pick another --prefix"
                ) from exc
            raise
        return True

    def bucket_tags(self, name: str) -> dict[str, str]:
        try:
            tags = call(self.s3.get_bucket_tagging, Bucket=name).get("TagSet") or []
        except TransportError as exc:
            if aws.error_code(exc) == "NoSuchTagSet":
                return {}
            raise
        return {tag["Key"]: tag["Value"] for tag in tags}

    def tag(self, kind: str, id_: str, tags: dict[str, str]) -> None:
        """Add (or overwrite) `tags` on a queue, topic or bucket."""
        if kind == "queue":
            call(self.sqs.tag_queue, QueueUrl=id_, Tags=tags)
        elif kind == "topic":
            call(self.sns.tag_resource, ResourceArn=id_, Tags=tag_list(tags))
        elif kind == "bucket":
            merged = self.bucket_tags(id_) | tags  # S3 replaces the whole set
            call(self.s3.put_bucket_tagging, Bucket=id_, Tagging={"TagSet": tag_list(merged)})


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """Tags as SNS and S3 take them."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]
