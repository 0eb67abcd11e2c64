"""Create (and delete) what the transports need: queues, topics, subscriptions, DLQs, a bucket.

    from asyncmcp_cli import provision

    result = provision.run("local", provision.Spec(prefix="demo"))   # idempotent
    provision.teardown("local", profile_name="local")                 # deletes what it made

`build_plan(spec)` alone touches nothing (``--dry-run``). A run writes a named
profile (`asyncmcp_cli.profiles`) that `serve`, `connect` and `tail` read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from asyncmcp_cli import profiles
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.provision.apply import OnStep, Outcome, Step
from asyncmcp_cli.provision.apply import apply as _apply
from asyncmcp_cli.provision.apply import teardown as _teardown
from asyncmcp_cli.provision.plan import Plan, Spec, build_plan
from asyncmcp_cli.provision.profile import profile_for, spec_from_dict
from asyncmcp_cli.provision.targets import TARGETS, Target, check, resolve

__all__ = ["TARGETS", "Outcome", "Plan", "Result", "Spec", "Step", "Target", "build_plan", "run", "teardown"]


@dataclass
class Result:
    plan: Plan
    outcome: Outcome
    profile: profiles.Profile | None = None
    profile_path: Path | None = None
    profile_removed: bool = False
    from_profile: str | None = None
    """Teardown: the profile whose record chose what to delete (None: the spec given)."""

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
    on_step: OnStep | None = None,
) -> Result:
    """Provision `spec` at the target; write the profile (named after the target unless told)."""
    plan = build_plan(spec)
    target = resolve(target_name, endpoint_url=endpoint_url, region=region)
    account = check(target)
    outcome = _apply(target, plan, account, on_step=on_step)
    result = Result(plan, outcome)
    if write_profile:
        result.profile = profile_for(profile_name or target_name, plan, outcome)
        result.profile_path = profiles.save(result.profile)
    return result


def teardown(
    target_name: str,
    spec: Spec | None = None,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile_name: str | None = None,
    on_step: OnStep | None = None,
) -> Result:
    """Delete what a run made. The profile's record wins over `spec`; the profile is removed after."""
    name = profile_name or target_name
    profile = _profile_named(name)
    recorded = profile is not None and profile.target == target_name and bool(profile.spec)
    if profile is not None and recorded:
        spec = spec_from_dict(profile.spec)
        endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or profile.endpoint_url
        region = region or profile.region
    if spec is None:
        raise ConfigurationError(f"nothing to tear down: no profile {name!r} and no spec given")
    plan = build_plan(spec)
    target = resolve(target_name, endpoint_url=endpoint_url, region=region)
    account = check(target)
    outcome = _teardown(target, plan, account, on_step=on_step)
    result = Result(plan, outcome, from_profile=name if recorded else None)
    if profile is not None and profile.target == target_name:
        result.profile_removed = profiles.delete(name)
    return result


def _profile_named(name: str) -> profiles.Profile | None:
    if name not in profiles.names():
        return None
    return profiles.load(name)
