"""The load-shape benchmark's orchestrator: real worker processes, every call accounted for."""

from __future__ import annotations

import pytest

from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.benchmarking.report import shape_lines
from asyncmcp_cli.benchmarking.shapes import Shape, run_shapes, this_python


@pytest.mark.timeout(240)
def test_a_shape_with_two_workers_and_two_sessions_accounts_for_every_call(moto: local_aws.LocalEndpoint) -> None:
    shape = Shape("2 sessions x 3, 2 workers", sessions=2, in_flight=3, workers=2, calls=12)
    (result,) = run_shapes(moto.url, this_python(), [shape])
    assert result.error is None
    assert result.calls == 12 and result.lost == 0 and result.failures == {}
    assert result.duplicated == 0
    assert result.calls_per_second > 0 and result.p50_ms > 0 and result.p95_ms >= result.p50_ms
    # Each side sent and received through SQS; both sides' requests are counted, by operation.
    assert result.requests["client"].get("SendMessageBatch", 0) > 0
    assert result.requests["client"].get("ReceiveMessage", 0) > 0
    assert result.requests["server"].get("SendMessageBatch", 0) > 0
    assert result.requests["server"].get("ReceiveMessage", 0) > 0
    assert result.requests_per_call == sum(sum(ops.values()) for ops in result.requests.values()) / 12
    assert result.cpu_ms_per_call > 0
    assert shape.name in "\n".join(shape_lines([result]))
