"""Take down what one profile created, and nothing else.

Walks the profile's record backwards (subscriptions before their topics and
queues) and, for each resource, decides (the same way in a dry run, which
only skips the writes):

- ``keep``: the profile did not create it (it already existed); another
  profile still records it (ownership passes to that profile); its tags no
  longer name the profile (re-created by someone else since); a bucket that
  is not empty (the profile stays, so a second teardown can finish the job);
- ``absent``: already gone;
- ``delete``: everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asyncmcp_cli.profiles import Profile
from asyncmcp_cli.provision.apply import OnStep, Outcome, Step
from asyncmcp_cli.provision.lookups import Lookups, call
from asyncmcp_cli.provision.ownership import (
    Recorded,
    hand_over,
    keeps_a_record,
    other_users,
    recorded,
    tagged_for,
    tags_for,
    users_of,
)
from asyncmcp_cli.provision.targets import Target

NOT_EMPTY = "not empty: kept, and the profile with it; empty the bucket and run teardown again"
LEGACY = (
    "kept: the profile was written by an older asyncmcp that did not record what it created; "
    "delete it by hand if nothing uses it"
)


@dataclass
class Removal:
    outcome: Outcome
    unfinished: list[Recorded] = field(default_factory=list)
    """Owned resources kept for now (a bucket with objects): the profile keeps recording them."""


def teardown(
    target: Target,
    account: str,
    profile: Profile,
    *,
    dry_run: bool = False,
    legacy: bool = False,
    on_step: OnStep | None = None,
) -> Removal:
    """Decide, resource by resource, what to delete; with `legacy`, keep everything and say why."""
    remover = _Remover(target, account, profile.name, dry_run, legacy)
    users = other_users(profile.name)
    removal = Removal(Outcome(target, account))
    for entry in reversed(recorded(profile)):
        step = remover.remove(entry, users_of(entry, users))
        if step.action == "keep" and step.detail == NOT_EMPTY:
            removal.unfinished.insert(0, entry)
        removal.outcome.steps.append(step)
        if on_step is not None:
            on_step(step)
    return removal


class _Remover(Lookups):
    def __init__(self, target: Target, account: str, profile: str, dry_run: bool, legacy: bool) -> None:
        super().__init__(target, account)
        self.profile = profile
        self.dry_run = dry_run
        self.legacy = legacy

    def remove(self, entry: Recorded, others: list[str]) -> Step:
        def step(action: str, detail: str = "", id_: str | None = entry.id) -> Step:
            return Step(action, entry.kind, entry.name, detail, id_, entry.owned)

        if self.legacy:
            return step("keep", LEGACY)
        if not entry.owned:
            return step("keep", f"it already existed when profile {self.profile!r} was provisioned: used, not created")
        live = self._live_id(entry)
        if live is None:
            return step("absent", id_=None)
        if others:
            users = f"profile {', '.join(map(repr, others))} still uses it"
            heir = next((name for name in others if keeps_a_record(name)), None)
            if heir is None:
                return step("keep", users)
            if not self.dry_run:
                if entry.kind != "subscription":
                    self.tag(entry.kind, live, tags_for(heir))
                hand_over(entry, heir)
            verb = "would pass" if self.dry_run else "passes"
            return step("keep", f"{users}; ownership {verb} to {heir!r}")
        if entry.kind != "subscription" and not tagged_for(self._tags(entry.kind, live), self.profile):
            return step(
                "keep", f"its tags do not name profile {self.profile!r}: someone re-created or claimed it since"
            )
        if entry.kind == "bucket" and call(self.s3.list_objects_v2, Bucket=live, MaxKeys=1).get("KeyCount", 0):
            return step("keep", NOT_EMPTY)
        if not self.dry_run:
            self._delete(entry.kind, live)
        return step("delete", f"created by profile {self.profile!r}, used by no other", live)

    def _live_id(self, entry: Recorded) -> str | None:
        """The resource's URL, ARN or name now, or None when it is gone."""
        if entry.kind == "queue":
            return self.queue_url(entry.name)
        if entry.kind == "topic":
            return entry.id if self.topic_exists(entry.id) else None
        if entry.kind == "subscription":
            return entry.id if self.subscription_exists(entry.id) else None
        return entry.id if self.bucket_exists(entry.id) else None

    def _tags(self, kind: str, live: str) -> dict[str, str]:
        if kind == "queue":
            return self.queue_tags(live)
        if kind == "topic":
            return self.topic_tags(live)
        return self.bucket_tags(live)

    def _delete(self, kind: str, live: str) -> None:
        if kind == "queue":
            call(self.sqs.delete_queue, QueueUrl=live)
        elif kind == "topic":
            call(self.sns.delete_topic, TopicArn=live)
        elif kind == "subscription":
            call(self.sns.unsubscribe, SubscriptionArn=live)
        else:
            call(self.s3.delete_bucket, Bucket=live)
