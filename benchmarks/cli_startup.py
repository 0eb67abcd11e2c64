"""How much CPU the `asyncmcp` command line costs before it does anything useful.

Each figure is the CPU time (user + system) of the child process, the median of
several runs: CPU time is the steadier figure on a busy machine, where wall
time mostly measures the neighbours. Measured:

- ``asyncmcp --help`` and ``asyncmcp connect --help``;
- one bash Tab completion request (what the script in ``completions/`` runs:
  ``_ASYNCMCP_COMPLETE=complete_bash`` with ``COMP_WORDS`` and ``COMP_CWORD``);
- a one-shot ``asyncmcp connect call echo text=hi`` against the demo server on
  the embedded local AWS endpoint (the client's CPU only; the endpoint and the
  server run in processes of their own). The first call fills the schema cache,
  the runs after it are what a user sees from then on.

Usage:
    python benchmarks/cli_startup.py [--runs 5] [--json] [--no-call]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TARGETS = {"--help": 0.25, "connect --help": 0.3, "completion": 0.15, "connect call": 1.0}
"""CPU seconds each figure should stay under."""


def cpu_of(argv: list[str], env: dict[str, str]) -> float:
    """User + system CPU seconds of one child process running `argv` to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(argv: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(cpu_of(argv, env) for _ in range(runs))


def asyncmcp() -> list[str]:
    """The installed console script next to this interpreter (as a user runs it), else ``-m``."""
    script = Path(sys.executable).with_name("asyncmcp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "asyncmcp_cli"]


def completion_env(base: dict[str, str], words: str) -> dict[str, str]:
    """What the bash completion script in ``completions/`` sets for a Tab after `words`."""
    return base | {
        "_ASYNCMCP_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }


@contextmanager
def demo_server(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The embedded endpoint and `asyncmcp serve` (the demo) on it; yields the environment to reach them."""
    from asyncmcp_cli.aws.local_aws import create_queues, local_endpoint_process

    with local_endpoint_process() as endpoint:
        create_queues(endpoint.settings)
        served = env | endpoint.exports()
        server = subprocess.Popen([*asyncmcp(), "serve"], env=served, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:  # the server is up once a call is answered
                probe = subprocess.run(
                    [*asyncmcp(), "connect", "call", "echo", "text=up", "--timeout", "5", "-q"],
                    env=served,
                    capture_output=True,
                    timeout=120,
                    check=False,
                )
                if probe.returncode == 0:
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the demo server did not answer: {probe.stderr.decode()[-500:]}")
            yield served
        finally:
            server.terminate()
            server.wait(timeout=30)


def measure(runs: int, *, call: bool) -> dict[str, float]:
    state = tempfile.mkdtemp(prefix="asyncmcp-startup-")
    env = os.environ | {"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state, "NO_COLOR": "1"}
    env.pop("_ASYNCMCP_COMPLETE", None)
    try:
        figures = {
            "--help": median_cpu([*asyncmcp(), "--help"], env, runs),
            "connect --help": median_cpu([*asyncmcp(), "connect", "--help"], env, runs),
            "completion": median_cpu(asyncmcp(), completion_env(env, "asyncmcp connect ca"), runs),
        }
        if call:
            with demo_server(env) as served:
                figures["connect call"] = median_cpu(
                    [*asyncmcp(), "connect", "call", "echo", "text=hi", "-q"], served, runs
                )
        return figures
    finally:
        shutil.rmtree(state, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (the median is printed)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-call", action="store_true", help="skip the one-shot call (no local endpoint)")
    args = parser.parse_args()
    figures = measure(args.runs, call=not args.no_call)
    if args.json:
        print(json.dumps({"cpu_seconds": figures, "targets": TARGETS, "runs": args.runs}, indent=2))
        return 0
    print(f"asyncmcp start-up, CPU seconds (user+sys of the child, median of {args.runs})")
    for name, seconds in figures.items():
        mark = "ok" if seconds <= TARGETS[name] else "over"
        print(f"  {name:<16} {seconds:6.3f}   target <= {TARGETS[name]:g}  {mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
