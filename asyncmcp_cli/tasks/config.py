"""What ``asyncmcp serve`` needs to turn tasks on: options in, a task-serving server out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.tasks import wire
from asyncmcp_cli.tasks.runtime import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_POLL_INTERVAL_MS,
    DEFAULT_TTL_MS,
)

DEFAULT_TTL_SECONDS = DEFAULT_TTL_MS / 1000
DEFAULT_POLL_SECONDS = DEFAULT_POLL_INTERVAL_MS / 1000


@dataclass(frozen=True)
class TaskOptions:
    store: str = "memory"
    """``memory``, ``sqlite:///PATH`` or ``s3://BUCKET/PREFIX``."""
    tools: tuple[str, ...] = ()
    """``NAME`` (optional task support) or ``NAME=required``."""
    ttl_seconds: float = DEFAULT_TTL_SECONDS
    """How long a task is kept after it was created; 0: no limit."""
    poll_interval_seconds: float = DEFAULT_POLL_SECONDS
    lease_seconds: float = DEFAULT_LEASE_SECONDS


def parse_task_tools(values: Iterable[str]) -> dict[str, wire.TaskSupport]:
    """``NAME`` or ``NAME=optional|required`` (``--task-tool``) as a name → support map."""
    tools: dict[str, wire.TaskSupport] = {}
    for value in values:
        name, sep, support = value.partition("=")
        support = support if sep else "optional"
        if not name or support not in ("optional", "required"):
            raise ConfigurationError(f"--task-tool takes NAME or NAME=required, got {value!r}")
        tools[name] = support  # type: ignore[assignment]
    return tools


def with_tasks(server: Any, options: TaskOptions, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """`server` answering task-augmented calls, with its store opened from `options`.

    An ``s3://`` store is reached at `endpoint_url` / `region` (the transport's own).
    """
    from asyncmcp_cli import aws
    from asyncmcp_cli.tasks.runtime import TaskRuntime
    from asyncmcp_cli.tasks.serving import enable_tasks
    from asyncmcp_cli.tasks.store import open_task_store

    if options.lease_seconds <= 0 or options.poll_interval_seconds <= 0 or options.ttl_seconds < 0:
        raise ConfigurationError("task lease and poll interval must be above zero, and the TTL not negative")
    runtime = TaskRuntime(
        open_task_store(options.store, aws.AwsSettings(endpoint_url=endpoint_url, region=region)),
        ttl_ms=round(options.ttl_seconds * 1000) or None,
        poll_interval_ms=max(1, round(options.poll_interval_seconds * 1000)),
        lease_seconds=options.lease_seconds,
    )
    return enable_tasks(server, runtime, tools=parse_task_tools(options.tools))
