"""Checking what was typed as tool or prompt arguments before anything connects.

Shared by the one-shot commands (`commands`) and `call --no-wait` (`later`),
which otherwise would import each other.
"""

from __future__ import annotations

from asyncmcp_cli.cli._common import ExitCode, fail


def check_words(pairs: list[str] | None, args_json: str | None) -> None:
    """Refuse malformed KEY=VALUE words and --args-json before connecting: no round trip for a typo."""
    from asyncmcp_cli.errors import UsageError
    from asyncmcp_cli.protocol.arguments import parse_json_object, split_pairs

    try:
        split_pairs(pairs or [])
        parse_json_object(args_json)
    except UsageError as exc:
        raise fail(str(exc), ExitCode.USAGE) from None
