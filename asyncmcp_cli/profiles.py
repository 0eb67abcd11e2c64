"""Named profiles: what `asyncmcp provision` created, for `serve`, `connect`, `proxy` and `tail` to read.

A profile records an endpoint, a region, per-transport options (queue URLs,
topic ARNs, a client id prefix, the reply allow-list) and queue roles for `tail`
(``requests``, ``replies``, ``dlq``, ...). Profiles live in one JSON file,
``profiles.json``, in the user config directory: ``$ASYNCMCP_CONFIG_DIR`` if
set, else ``$XDG_CONFIG_HOME/asyncmcp`` (``~/.config/asyncmcp``), or
``%APPDATA%\\asyncmcp`` on Windows. The file names a default profile, used when
no ``--profile`` / ``ASYNCMCP_PROFILE`` is given.

Options resolve as: explicit flag > environment variable > profile > the
transport's own default. The file holds no secrets: credentials stay with
the AWS credential chain.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from asyncmcp_cli.delivery.bucket_layout import RESULTS_PREFIX, TASKS_PREFIX
from asyncmcp_cli.errors import ConfigurationError

CONFIG_DIR_ENV = "ASYNCMCP_CONFIG_DIR"
PROFILE_ENV = "ASYNCMCP_PROFILE"
FILE_NAME = "profiles.json"
_FORMAT = 1


@dataclass
class Profile:
    name: str
    target: str
    """Where it was provisioned: ``local``, ``localstack`` or ``aws``."""
    endpoint_url: str | None = None
    region: str | None = None
    transports: dict[str, dict[str, str]] = field(default_factory=dict)
    """Options per transport name (``sqs``, ``sns+sqs``), as `-o KEY=VALUE` would give them."""
    roles: dict[str, str] = field(default_factory=dict)
    """Queue URLs by role, for `tail`: requests, replies, dlq, sns-requests, sns-replies, sns-dlq."""
    spec: dict[str, Any] = field(default_factory=dict)
    """The provisioning choices behind the run."""
    bucket: str | None = None
    """The S3 bucket for large payloads, if one was made."""
    resources: list[dict[str, Any]] = field(default_factory=list)
    """Every resource the run used, in creation order, each marked owned (created by this profile) or not.

    Teardown deletes only owned ones (see `asyncmcp_cli.provision.ownership`)."""

    def transport_settings(self, transport: str) -> dict[str, str]:
        """The options this profile gives `transport` (empty when it has none for it)."""
        section = self.transports.get(transport)
        if section is None:
            return {}
        connection = {"endpoint_url": self.endpoint_url, "region": self.region}
        return {k: v for k, v in connection.items() if v} | self.shared_stores() | dict(section)

    def shared_stores(self) -> dict[str, str]:
        """Stores every server of this profile can reach, as defaults: with a bucket, the result cache
        lives in it (``s3://BUCKET/asyncmcp/results/``, expired by the bucket's lifecycle rule), so a
        redelivered request that reaches another worker, or another machine, is answered, not re-run."""
        if not self.bucket:
            return {}
        return {"result_cache": f"s3://{self.bucket}/{RESULTS_PREFIX}"}

    def shared_task_store(self) -> str | None:
        """The task store every server of this profile can reach (``s3://BUCKET/asyncmcp/tasks/``,
        expired by the bucket's lifecycle rule), so any worker answers ``tasks/get`` for a task
        another one runs; None without a bucket."""
        if not self.bucket:
            return None
        return f"s3://{self.bucket}/{TASKS_PREFIX}"

    @property
    def tap(self) -> str | None:
        """The tap topic ARN its peers copy their traffic to (``provision --tap``), if it has one."""
        return next((section["tap"] for section in self.transports.values() if section.get("tap")), None)

    def exports(self) -> dict[str, str]:
        """Environment that selects this profile (plus the endpoint, for other AWS tools)."""
        env = {PROFILE_ENV: self.name}
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        if self.region:
            env["AWS_REGION"] = self.region
            env["AWS_DEFAULT_REGION"] = self.region  # what plain boto3 reads
        return env


def with_profile(transport: str, named: dict[str, Any], profile_name: str | None = None) -> dict[str, Any]:
    """`named` options (flags and environment, None where unset) filled in from the profile.

    The profile contributes its section for this transport, and only where
    `named` has nothing. For a transport URL, which names its own queues, it
    contributes only the endpoint and region, and not when the URL sets them.
    """
    profile = load(profile_name)
    values = profile.transport_settings(transport.split("://", 1)[0]) if profile else {}
    if "://" in transport:
        in_url = {key for key, _ in parse_qsl(urlsplit(transport).query)}
        values = {k: v for k, v in values.items() if k in ("endpoint_url", "region") and k not in in_url}
    merged = dict(named)
    for key, value in values.items():
        if merged.get(key) is None:
            merged[key] = value
    return merged


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "asyncmcp"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "asyncmcp"


def path() -> Path:
    return config_dir() / FILE_NAME


def load(name: str | None = None, *, required: bool = False) -> Profile | None:
    """The profile called `name` (default: ``$ASYNCMCP_PROFILE``, else the file's default).

    None when there is none to use; with `required`, or when a name was asked
    for explicitly and is missing, a `ConfigurationError` saying what to run.
    """
    data = _read()
    wanted = name or os.environ.get(PROFILE_ENV) or data.get("default")
    if not wanted:
        if required:
            raise ConfigurationError(f"no asyncmcp profile yet ({path()}); run `asyncmcp provision local` first")
        return None
    raw = data.get("profiles", {}).get(wanted)
    if raw is None:
        if name or os.environ.get(PROFILE_ENV) or required:
            known = ", ".join(sorted(data.get("profiles", {}))) or "none"
            raise ConfigurationError(
                f"no asyncmcp profile named {wanted!r} in {path()} (known: {known}); "
                f"run `asyncmcp provision ... --profile {wanted}`"
            )
        return None
    try:
        return Profile(name=wanted, **{k: v for k, v in raw.items() if k != "name"})
    except TypeError as exc:
        raise ConfigurationError(f"profile {wanted!r} in {path()} is malformed: {exc}") from None


def save(profile: Profile, *, make_default: bool = True) -> Path:
    """Write (or replace) a profile; atomically, so a crash never leaves half a file."""
    data = _read()
    data.setdefault("profiles", {})[profile.name] = {k: v for k, v in asdict(profile).items() if k != "name"}
    if make_default or not data.get("default"):
        data["default"] = profile.name
    return _write(data)


def delete(name: str) -> bool:
    """Remove a profile; True if it existed. The default moves to another profile, if any."""
    data = _read()
    profiles = data.get("profiles", {})
    if name not in profiles:
        return False
    del profiles[name]
    if data.get("default") == name:
        data["default"] = next(iter(sorted(profiles)), None)
    _write(data)
    return True


def names() -> list[str]:
    return sorted(_read().get("profiles", {}))


def _read() -> dict[str, Any]:
    file = path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"format": _FORMAT, "default": None, "profiles": {}}
    except OSError as exc:
        raise ConfigurationError(f"cannot read {file}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{file} is not valid JSON ({exc}); fix or delete it") from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
        raise ConfigurationError(f"{file} is not an asyncmcp profiles file; fix or delete it")
    return data


def _write(data: dict[str, Any]) -> Path:
    file = path()
    data["format"] = _FORMAT
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=file.parent, delete=False, suffix=".tmp", encoding="utf-8") as tmp:
            json.dump(data, tmp, indent=2, sort_keys=True)
            tmp.write("\n")
        os.replace(tmp.name, file)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {file}: {exc}") from None
    return file
