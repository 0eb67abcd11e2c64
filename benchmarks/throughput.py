"""Throughput and cost under load shapes, this project beside the reference library, on one moto endpoint.

Shapes: one call at a time; 1 session x 50 in flight; 5 sessions x 10 in flight
(each session its own reply queue); 4 client processes x 40; 5 x 10 against 2
and 4 server worker processes on one queue; idle. Both libraries run against
the same moto server (a child process), shape by shape, in one run. The
reference (PyPI asyncmcp 0.2.1, on mcp 1.x) runs from its own virtualenv,
created on first use under ~/.cache/asyncmcp-bench. `--baseline DIR` adds
another checkout of this project (e.g. ``git archive main asyncmcp_cli | tar -x -C DIR``)
as a third column. Prints figures; asserts nothing.

    python benchmarks/throughput.py [--calls 500] [--only ours] [--baseline DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys

from asyncmcp_cli.benchmarking.reference_venv import reference_python
from asyncmcp_cli.benchmarking.report import print_comparison
from asyncmcp_cli.benchmarking.shapes import Library, run_shapes, standard_shapes

REFERENCE_SHAPES = ("one at a time", "1 session x 50", "5 sessions x 10", "4 processes x 40", "idle")
"""The reference keeps each session in the worker that opened it, so it has no multi-worker shape."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per shape")
    parser.add_argument("--idle-seconds", type=float, default=45.0)
    parser.add_argument("--only", choices=("ours", "reference"))
    parser.add_argument("--baseline", metavar="DIR", help="a directory holding another asyncmcp_cli to compare")
    parser.add_argument("--shape", action="append", help="run only the shapes so named")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    parser.add_argument("--log", metavar="FILE", default="/dev/null", help="where the processes' stderr goes")
    args = parser.parse_args()
    from asyncmcp_cli.aws.local_aws import local_endpoint_process

    libraries = []
    if args.only != "ours":
        libraries.append(Library("reference", reference_python(), adapter="reference"))
    if args.only != "reference":
        if args.baseline:
            libraries.append(Library("before", sys.executable, {"PYTHONPATH": args.baseline}))
        libraries.append(Library("ours", sys.executable))
    shapes = [s for s in standard_shapes(args.calls, args.idle_seconds) if not args.shape or s.name in args.shape]
    results = []
    with local_endpoint_process() as endpoint, open(args.log, "a") as log:
        for shape in shapes:
            for library in libraries:
                if library.name == "reference" and shape.name not in REFERENCE_SHAPES:
                    continue
                print(f"{library.name}: {shape.name}", file=sys.stderr)
                results += run_shapes(endpoint.url, library, [shape], endpoint_pid=endpoint.pid, log=log)
    print_comparison(results)
    if args.json:
        with open(args.json, "w") as out:
            json.dump([r.as_dict() for r in results], out, indent=2)


if __name__ == "__main__":
    main()
