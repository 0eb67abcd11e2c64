"""Scraping a running `serve` or `proxy`: its metrics endpoint, read over real HTTP."""

from __future__ import annotations

import json
import re

import httpx2
from prometheus_client.parser import text_string_to_metric_families


def metrics_url(lines: list[str]) -> str:
    """The base URL (http://HOST:PORT) of the metrics endpoint named in a process's log lines."""
    for line in lines:
        match = re.search(r"(http://[\d.]+:\d+)/metrics", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no metrics address in {lines}")


def scrape(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, keyed by (name, labels)."""
    response = httpx2.get(base + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str) -> list[dict[str, str]]:
    """The label sets of every series of `name`."""
    return [dict(labels) for (sample, labels) in samples if sample == name]


def json_lines(lines: list[str]) -> list[dict[str, object]]:
    """Every line of a JSON log, parsed (fails on a line that is not one JSON object)."""
    parsed = []
    for line in lines:
        if line.strip():
            record = json.loads(line)
            assert isinstance(record, dict), line
            parsed.append(record)
    return parsed
