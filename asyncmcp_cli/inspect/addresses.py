"""Turn what the user typed (a role, a queue name, a URL) into queues to tail.

Roles come from the profile `asyncmcp provision` wrote: ``requests``,
``replies``, ``dlq`` (the SQS transport's, or SNS+SQS's when only that was
provisioned) and ``sns-requests``, ``sns-replies``, ``sns-dlq``. To tail a
queue literally named like a role, give its URL.
"""

from __future__ import annotations

from asyncmcp_cli.errors import ConfigurationError

ROLES = ("requests", "replies", "dlq", "sns-requests", "sns-replies", "sns-dlq")
PAIRED_ROLES = {"requests": "replies", "sns-requests": "sns-replies"}


def queues_for(targets: list[str], roles: dict[str, str], *, pair: bool = False) -> list[str]:
    """Queue names or URLs for `targets`; none means ``requests`` (and ``replies`` with `pair`)."""
    if not targets:
        targets = ["requests", "replies"] if pair else ["requests"]
    elif pair and len(targets) == 1 and targets[0] in PAIRED_ROLES:
        targets = [targets[0], PAIRED_ROLES[targets[0]]]
    resolved: list[str] = []
    for target in targets:
        if "://" in target:
            resolved.append(target)
        elif target in roles:
            resolved.append(roles[target])
        elif target in ROLES or (target.startswith(("sns-requests-", "sns-replies-", "sns-dlq-"))):
            known = ", ".join(sorted(roles)) or "none: run `asyncmcp provision` first"
            raise ConfigurationError(
                f"{target!r} is a queue role, and the profile names no such queue (roles: {known}); "
                "or give a queue name or URL"
            )
        else:
            resolved.append(target)
    return list(dict.fromkeys(resolved))
