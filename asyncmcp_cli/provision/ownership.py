"""Who made what: the tags `provision` puts on what it creates, and which profiles still use a resource.

Several profiles may share resources: two runs with the same prefix name the
same queues. So a teardown must not delete everything its plan names, only
what its own profile created. Three records say so, and teardown asks all of them:

- the profile's record (`Recorded` entries, in creation order): every resource
  the run used, each marked *owned* (the run created it) or not (it already
  existed). Subscriptions cannot be tagged, so the record holds their ARNs;
- tags on queues, topics and buckets: ``asyncmcp:created-by=asyncmcp`` and
  ``asyncmcp:profile=NAME``. A resource deleted and re-created by someone else
  since the run no longer carries them, and is kept;
- every other profile: a resource another profile still records (as owned or
  used, or in its transport options) is kept, and its ownership passes to that
  profile, so tearing that one down later removes it (unless that profile
  predates these records: then the resource is only kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncmcp_cli import profiles
from asyncmcp_cli.errors import ConfigurationError

CREATED_BY = "asyncmcp:created-by"
PROFILE = "asyncmcp:profile"
MAKER = "asyncmcp"


def tags_for(profile: str) -> dict[str, str]:
    """The tags of a resource `profile` creates."""
    return {CREATED_BY: MAKER, PROFILE: profile}


def tagged_for(tags: dict[str, str], profile: str) -> bool:
    """Whether a resource's tags say `profile` created it (or was handed it)."""
    return tags.get(CREATED_BY) == MAKER and tags.get(PROFILE) == profile


@dataclass(frozen=True)
class Recorded:
    """One resource in a profile's record."""

    kind: str
    name: str
    id: str
    """The queue URL, topic or subscription ARN, or bucket name."""
    owned: bool

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "id": self.id, "owned": self.owned}

    @classmethod
    def from_dict(cls, data: Any) -> Recorded:
        try:
            kind, name, id_, owned = data["kind"], data["name"], data["id"], data["owned"]
        except (KeyError, TypeError):
            raise ConfigurationError(f"the profile's resource record is malformed: {data!r}") from None
        if not all(isinstance(v, str) for v in (kind, name, id_)) or not isinstance(owned, bool):
            raise ConfigurationError(f"the profile's resource record is malformed: {data!r}")
        return cls(kind, name, id_, owned)


def recorded(profile: profiles.Profile) -> list[Recorded]:
    return [Recorded.from_dict(entry) for entry in profile.resources]


def owned_ids(profile: profiles.Profile | None) -> set[str]:
    """What `profile` recorded as created by it (empty for none)."""
    if profile is None:
        return set()
    return {entry.id for entry in recorded(profile) if entry.owned}


def other_users(profile_name: str) -> dict[str, list[str]]:
    """Every resource id (and ``kind:name``) other profiles refer to, with the profiles that do.

    Conservative on purpose: a profile written before ownership was recorded
    still refers to its queues, topics and bucket through its transport
    options and roles, and those count too. Keeping too much is safe;
    deleting a queue someone uses is not.
    """
    users: dict[str, list[str]] = {}
    for name in profiles.names():
        if name == profile_name:
            continue
        other = profiles.load(name)
        if other is None:
            continue
        keys: set[str] = set(other.roles.values())
        for section in other.transports.values():
            keys.update(section.values())
        if other.bucket:
            keys.add(other.bucket)
        for entry in recorded(other):
            keys.update({entry.id, f"{entry.kind}:{entry.name}"})
        for key in keys:
            users.setdefault(key, []).append(name)
    return users


def users_of(entry: Recorded, users: dict[str, list[str]]) -> list[str]:
    return sorted(set(users.get(entry.id, []) + users.get(f"{entry.kind}:{entry.name}", [])))


def keeps_a_record(name: str) -> bool:
    """Whether profile `name` records what it owns (profiles from before ownership was recorded do not)."""
    profile = profiles.load(name) if name in profiles.names() else None
    return profile is not None and bool(profile.resources)


def hand_over(entry: Recorded, to: str) -> None:
    """Mark `entry` as owned in profile `to`'s record (it stays the default it was, or not)."""
    profile = profiles.load(to)
    if profile is None:
        return
    entries = recorded(profile)
    if any(e.id == entry.id for e in entries):
        entries = [Recorded(e.kind, e.name, e.id, e.owned or e.id == entry.id) for e in entries]
    else:
        entries.append(Recorded(entry.kind, entry.name, entry.id, True))
    profile.resources = [e.to_dict() for e in entries]
    profiles.save(profile, make_default=False)
