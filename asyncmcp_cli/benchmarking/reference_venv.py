"""A virtualenv with the reference library (PyPI ``asyncmcp`` 0.2.1), made once and reused.

The reference pins ``mcp<2``, which cannot live beside this project's ``mcp`` 2.x,
so its side of a benchmark runs in its own interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REFERENCE = "asyncmcp==0.2.1"


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "asyncmcp-bench"


def reference_python(requirement: str = REFERENCE) -> str:
    """The interpreter of a virtualenv with `requirement` installed; created on first use."""
    venv = cache_dir() / ("reference-" + requirement.replace("==", "-"))
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", requirement], check=True)
        marker.write_text(requirement + "\n")
    return str(python)
