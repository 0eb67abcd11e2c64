"""The tap is best-effort: a tap that cannot publish never delays or fails the traffic, and says so once."""

from __future__ import annotations

import logging

import pytest

from asyncmcp_cli.client import open_client
from tests.conftest import Queues
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_sqs import sqs_transport

pytestmark = pytest.mark.anyio


@pytest.mark.timeout(120)
async def test_a_broken_tap_leaves_the_calls_alone_and_is_logged_once_per_peer(
    queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="asyncmcp_cli.tap")
    missing = queues.prefix + "no-such-tap"
    transport = sqs_transport(queues, tap=missing)
    async with running(ControlledApp(), transport), open_client(transport, timeout=20) as client:
        for index in range(5):
            result = await client.call_tool("echo", {"text": f"call-{index}"})
            assert result.content[0].text == f"call-{index}"  # type: ignore[union-attr]
    complaints = [r.getMessage() for r in caplog.records if r.name == "asyncmcp_cli.tap"]
    assert len(complaints) == 2, complaints  # the server's tap and the client's, once each, not per message
    assert all("no-such-tap" in c and "unaffected" in c for c in complaints)
