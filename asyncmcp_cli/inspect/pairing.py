"""Pair responses with their requests by (client id, JSON-RPC id).

JSON-RPC ids are unique per client only, so the client id is part of the key.
A response seen after its request gets the request's method and the time
between the two; memory is bounded (the oldest unanswered requests are
forgotten first).
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict

from asyncmcp_cli.inspect.decode import Observed

_MAX_REMEMBERED = 10_000


def pair_key(observed: Observed) -> tuple[str, str] | None:
    if observed.id is None or observed.client_id is None:
        return None
    return observed.client_id, json.dumps(observed.id)


class Pairer:
    def __init__(self, max_remembered: int = _MAX_REMEMBERED) -> None:
        self._requests: OrderedDict[tuple[str, str], Observed] = OrderedDict()
        self._max = max_remembered

    def see(self, observed: Observed) -> Observed:
        """Remember a request; annotate a response with its request's method and latency."""
        key = pair_key(observed)
        if key is None:
            return observed
        if observed.kind == "request":
            self._requests[key] = observed
            self._requests.move_to_end(key)
            while len(self._requests) > self._max:
                self._requests.popitem(last=False)
            return observed
        if observed.kind not in ("response", "error"):
            return observed
        request = self._requests.get(key)
        if request is None:
            return observed
        latency = None
        if request.sent_at_ms is not None and observed.sent_at_ms is not None:
            latency = max(0, observed.sent_at_ms - request.sent_at_ms)
        return dataclasses.replace(observed, paired_method=request.method, latency_ms=latency)
