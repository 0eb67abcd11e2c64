"""The command that starts an ordinary stdio MCP server.

``python`` and ``python3`` as the first word mean the interpreter running
asyncmcp (`sys.executable`), whichever ``python`` the ``PATH`` has or lacks:
``--stdio "python -m asyncmcp_cli.demo_stdio"`` then works from a virtualenv
that was never activated, and a server module installed next to asyncmcp is
found. Any other word (``python3.12``, ``/usr/bin/python``, ``uvx``) is run as
given.
"""

from __future__ import annotations

import sys

BARE_PYTHONS = frozenset({"python", "python3"})


def resolve_command(command: str) -> str:
    """`command`, with a bare ``python`` / ``python3`` replaced by this interpreter."""
    return sys.executable if command in BARE_PYTHONS and sys.executable else command
