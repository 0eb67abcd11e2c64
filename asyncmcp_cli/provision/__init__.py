"""Create (and delete) what the transports need: queues, topics, subscriptions, DLQs, a bucket.

    from asyncmcp_cli import provision

    result = provision.run("local", provision.Spec(prefix="demo"))   # idempotent
    provision.teardown("local", profile_name="local")                 # deletes what that profile made

`build_plan(spec)` alone touches nothing (``--dry-run``). A run writes a named
profile (`asyncmcp_cli.profiles`) that `serve`, `connect` and `tail` read, and
that records which resources the run created: teardown deletes only those,
and only when no other profile uses them (`asyncmcp_cli.provision.ownership`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from asyncmcp_cli import profiles
from asyncmcp_cli.errors import UsageError
from asyncmcp_cli.provision.apply import OnStep, Outcome, Step
from asyncmcp_cli.provision.apply import apply as _apply
from asyncmcp_cli.provision.ownership import Recorded, owned_ids, recorded
from asyncmcp_cli.provision.plan import Bucket, Plan, Spec, build_plan
from asyncmcp_cli.provision.profile import profile_for, spec_from_dict
from asyncmcp_cli.provision.removal import teardown as _teardown
from asyncmcp_cli.provision.targets import TARGETS, Target, check, resolve

__all__ = ["TARGETS", "Outcome", "Plan", "Result", "Spec", "Step", "Target", "build_plan", "run", "teardown"]


@dataclass
class Result:
    outcome: Outcome
    profile_name: str | None
    """The profile written (None with ``write_profile=False``) or torn down."""
    plan: Plan | None = None
    """What a provisioning run was asked for (None for a teardown)."""
    profile: profiles.Profile | None = None
    """The profile a provisioning run wrote, or the one a teardown worked from."""
    profile_path: Path | None = None
    profile_removed: bool = False
    dry_run: bool = False

    @property
    def target(self) -> Target:
        return self.outcome.target

    @property
    def steps(self) -> list[Step]:
        return self.outcome.steps


def run(
    target_name: str,
    spec: Spec,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile_name: str | None = None,
    write_profile: bool = True,
    replace_subscription: bool = False,
    on_step: OnStep | None = None,
) -> Result:
    """Provision `spec` at the target for a profile (named after the target unless told), and write it.

    What the run creates is tagged with the profile's name; a subscription
    it did not create is not changed unless `replace_subscription`.
    """
    name = profile_name or target_name
    plan = build_plan(spec)
    target = resolve(target_name, endpoint_url=endpoint_url, region=region)
    account = check(target)
    previous = _profile_named(name)
    outcome = _apply(
        target,
        plan,
        account,
        profile=name,
        owned_before=owned_ids(previous),
        replace_subscription=replace_subscription,
        on_step=on_step,
    )
    result = Result(outcome, name if write_profile else None, plan)
    if write_profile:
        profile = profile_for(name, plan, outcome)
        if previous is not None:  # what an earlier run with other choices created is still this profile's
            ids = {entry["id"] for entry in profile.resources}
            carried = [e.to_dict() for e in recorded(previous) if e.owned and e.id not in ids]
            profile.resources = carried + profile.resources
        result.profile = profile
        result.profile_path = profiles.save(profile)
    return result


def teardown(
    target_name: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile_name: str | None = None,
    dry_run: bool = False,
    on_step: OnStep | None = None,
) -> Result:
    """Delete what the profile (named after the target unless told) created and no other profile uses.

    The profile is removed after, unless something it owns had to stay (a
    bucket with objects in it). With `dry_run`, decide the same way and change
    nothing. An unknown profile is a `UsageError`, and nothing is deleted.
    """
    name = profile_name or target_name
    profile = _profile_named(name)
    if profile is None:
        known = ", ".join(profiles.names()) or "none"
        raise UsageError(f"no profile {name!r} to tear down (known: {known}); nothing was deleted")
    if profile.target != target_name:
        raise UsageError(
            f"profile {name!r} was provisioned on {profile.target}, not {target_name}; "
            f"run `asyncmcp provision {profile.target} --teardown --profile {name}`"
        )
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or profile.endpoint_url
    target = resolve(target_name, endpoint_url=endpoint_url, region=region or profile.region)
    account = check(target)
    legacy = not profile.resources
    if legacy:  # written before ownership was recorded: it proves nothing is its own, so nothing is deleted
        profile.resources = [entry.to_dict() for entry in _unowned_from_spec(profile, account)]
    removal = _teardown(target, account, profile, dry_run=dry_run, legacy=legacy, on_step=on_step)
    result = Result(removal.outcome, name, profile=profile, dry_run=dry_run)
    if not dry_run:
        if removal.unfinished:
            profile.resources = [entry.to_dict() for entry in removal.unfinished]
            profiles.save(profile, make_default=False)
        else:
            result.profile_removed = profiles.delete(name)
    return result


def _unowned_from_spec(profile: profiles.Profile, account: str) -> list[Recorded]:
    if not profile.spec:
        return []
    plan = build_plan(spec_from_dict(profile.spec))
    entries = []
    for resource in plan.resources:
        name = resource.name_for(account) if isinstance(resource, Bucket) else resource.name
        entries.append(Recorded(resource.kind, name, name, owned=False))
    return entries


def _profile_named(name: str) -> profiles.Profile | None:
    if name not in profiles.names():
        return None
    return profiles.load(name)
