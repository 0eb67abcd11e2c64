"""Print load-shape figures: one line per shape and library, then each target beside the reference's."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from asyncmcp_cli.benchmarking.shapes import ShapeResult

TARGET_RATIO = 5.0
MAX_REQUESTS_PER_CALL = 1.0
MAX_CPU_RATIO = 0.25
MAX_IDLE_PER_MINUTE = 6.0


def shape_lines(results: list[ShapeResult]) -> list[str]:
    lines = [
        f"{'shape':<20} {'library':<10} {'calls/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/call':>8} "
        f"{'CPU ms/call':>11} {'moto ms':>7} {'lost':>5} {'dup':>4}  requests per call by side and operation"
    ]
    for r in results:
        if r.error:
            lines.append(f"{r.shape.name:<20} {r.lib:<10} failed: {r.error}")
            continue
        if r.shape.idle_seconds:
            per_side = _by_operation(r, per=r.shape.idle_seconds / 60, unit="/min")
            lines.append(
                f"{r.shape.name:<20} {r.lib:<10} {r.idle_requests_per_minute_per_poller:>6.1f} requests/min/poller"
                f"{'':>36}  {per_side}"
            )
            continue
        lines.append(
            f"{r.shape.name:<20} {r.lib:<10} {r.calls_per_second:>8.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} "
            f"{r.requests_per_call:>8.2f} {r.cpu_ms_per_call:>11.1f} {r.endpoint_cpu_ms_per_call:>7.1f} "
            f"{r.lost:>5} {r.duplicated:>4}  "
            f"{_by_operation(r, per=max(1, r.calls))}"
        )
    return lines


def _by_operation(r: ShapeResult, *, per: float, unit: str = "") -> str:
    parts = []
    for side, operations in r.requests.items():
        shown = " ".join(f"{_short(op)} {n / per:.2f}{unit}" for op, n in operations.items())
        parts.append(f"{side}: {shown or '-'}")
    return "; ".join(parts)


def _short(operation: str) -> str:
    return operation.replace("Message", "").replace("Visibility", "Vis")


def target_lines(results: list[ShapeResult], reference: str = "reference") -> list[str]:
    """Each target of the throughput issue: the reference's figure and every other library's, with ratios."""
    libraries = list(dict.fromkeys(r.lib for r in results))
    others = [lib for lib in libraries if lib != reference]
    found = {(r.lib, r.shape.name): r for r in results if not r.error}

    def figure(lib: str, shape: str, value: Callable[[ShapeResult], float]) -> float | None:
        r = found.get((lib, shape))
        return None if r is None else value(r)

    rows: list[tuple[str, str, Callable[[ShapeResult], float], str]] = [
        ("tools/call p50 one at a time (ms)", "one at a time", lambda r: r.p50_ms, "no worse than before"),
        ("calls/s, 1 session x 50", "1 session x 50", lambda r: r.calls_per_second, f">= {TARGET_RATIO:g}x ref"),
        ("calls/s, 5 sessions x 10", "5 sessions x 10", lambda r: r.calls_per_second, f">= {TARGET_RATIO:g}x ref"),
    ]
    for shape in ("1 session x 50", "5 sessions x 10", "4 processes x 40", "5 x 10, 2 workers", "5 x 10, 4 workers"):
        rows.append((f"SQS requests/call, {shape}", shape, lambda r: r.requests_per_call, "<= 1.0 (0.6 full)"))
    for shape in ("1 session x 50", "5 sessions x 10"):
        rows.append((f"CPU ms/call, {shape}", shape, lambda r: r.cpu_ms_per_call, f"<= {MAX_CPU_RATIO:g}x ref"))
    rows.append(("calls/s, 4 processes x 40", "4 processes x 40", lambda r: r.calls_per_second, ""))
    for shape in ("5 x 10, 2 workers", "5 x 10, 4 workers"):
        rows.append((f"calls/s, {shape}", shape, lambda r: r.calls_per_second, ""))
        rows.append((f"lost / run twice, {shape}", shape, lambda r: r.lost * 1000 + r.duplicated, "0 lost"))
    rows.append(
        (
            "idle requests/min per poller",
            "idle",
            lambda r: r.idle_requests_per_minute_per_poller,
            f"<= {MAX_IDLE_PER_MINUTE:g}",
        )
    )
    header = f"{'target':<42} {'reference':>10} " + " ".join(f"{lib:>10} {'ratio':>7}" for lib in others) + "  goal"
    lines = [header]
    for label, shape, value, goal in rows:
        ref = figure(reference, shape, value)
        cells = [f"{label:<42} {_cell(ref, label)}"]
        for lib in others:
            mine = figure(lib, shape, value)
            ratio = f"{mine / ref:>6.2f}x" if mine is not None and ref else f"{'':>7}"
            cells.append(f"{_cell(mine, label)} {ratio}")
        lines.append(" ".join(cells) + f"  {goal}")
    return lines


def _cell(value: float | None, label: str) -> str:
    if value is None:
        return f"{'-':>10}"
    if label.startswith("lost"):
        return f"{int(value) // 1000:>4} / {int(value) % 1000:<3}"
    return f"{value:>10.2f}"


def print_comparison(results: list[ShapeResult], out: IO[str] | None = None) -> None:
    lines = [*shape_lines(results), "", *target_lines(results)]
    print("\n".join(lines), file=out)
