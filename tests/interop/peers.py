"""Where the third-party MCP peers are installed, and skipping (with the reason) when they are not.

`make peers` installs the npm packages into ``.npm-peers/`` (pinned versions);
``mcp-server-time`` comes with the dev extras into this virtualenv. A test whose
peer is missing is skipped with the reason and the command that installs it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NPM_BIN = ROOT / ".npm-peers" / "node_modules" / ".bin"
INSTALL_HINT = "run `make peers` (needs node and a reachable npm registry)"


def npm_peer(name: str) -> str:
    """The path of an npm peer's executable, or skip the test saying why."""
    if shutil.which("node") is None:
        pytest.skip(f"node is not installed, so the npm peer {name} cannot run; {INSTALL_HINT}")
    path = NPM_BIN / name
    if not path.exists():
        pytest.skip(f"npm peer {name} is not installed in .npm-peers; {INSTALL_HINT}")
    return str(path)


def python_peer(name: str, package: str) -> str:
    """The path of a console script installed in this virtualenv, or skip the test saying why."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed; pip install {package} (it is in the dev extras)")
    return found
