"""What a server writes to one client reaches that client's session in the same order, end to end.

A tool reports progress 0..STEPS and then returns. The SDK drops a progress notification that
arrives after its call's result, so every call must see all of its progress callbacks, in order,
by the time its result is back, over standard queues, which keep no order of their own. Webhooks
POSTed side by side can land out of order too; that is shown directly at a client's receiver.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.client import open_client
from asyncmcp_cli.transports.base import Transport
from tests.conftest import Queues
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_sns import provisioned
from tests.transports.test_sqs import sqs_transport
from tests.transports.test_webhook import next_text, notification, webhook_transport
from tests.transports.webhook_support import post_signed

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]

SEQUENCE = "asyncmcp-seq"
"""The attribute (webhook header) a server numbers its messages to a client with: `<stream>:<n>`."""
CALLS = 50
STEPS = 5


async def _calls_see_all_their_progress(transport: Transport) -> dict[int, list[float]]:
    """Run CALLS concurrent `count_up` calls; return, per call, the progress seen when its result came back."""
    seen_at_result: dict[int, list[float]] = {}
    async with (
        running(ControlledApp(), transport),
        open_client(transport, timeout=150) as client,
    ):  # generous: a busy machine is slow, not wrong

        async def call(index: int) -> None:
            progress: list[float] = []

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append(value)

            result = await client.call_tool("count_up", {"steps": STEPS}, progress_callback=on_progress)
            assert result.content[0].text == f"counted to {STEPS}"  # type: ignore[union-attr]
            seen_at_result[index] = list(progress)

        with anyio.fail_after(90):
            async with anyio.create_task_group() as tg:
                for index in range(CALLS):
                    tg.start_soon(call, index)
    return seen_at_result


def _assert_in_order(seen_at_result: dict[int, list[float]]) -> None:
    expected = [float(step) for step in range(STEPS + 1)]
    short = {index: seen for index, seen in seen_at_result.items() if seen != expected}
    assert len(seen_at_result) == CALLS
    assert not short, f"{len(short)} of {CALLS} calls saw their result before all their progress: {short}"


async def test_progress_reaches_the_client_before_the_result_over_sqs(queues: Queues) -> None:
    _assert_in_order(await _calls_see_all_their_progress(sqs_transport(queues)))


async def test_progress_reaches_the_client_before_the_result_over_sns_sqs(moto: LocalEndpoint) -> None:
    _assert_in_order(await _calls_see_all_their_progress(provisioned(moto).transport()))


async def test_webhooks_arriving_out_of_order_reach_the_session_in_the_order_sent(tmp_path: Path) -> None:
    """A server POSTs side by side, so its webhooks can land in any order; the client restores the sent one."""
    transport = webhook_transport(tmp_path)
    async with transport.connect(client_id="ordered") as (read_stream, _write_stream):
        url = transport.receivers["ordered"]
        for n in (3, 1, 2, 0):
            response = await post_signed(url, notification(f"n{n}"), headers={SEQUENCE: f"s1:{n}"})
            assert response.status_code == 202
        assert [await next_text(read_stream) for _ in range(4)] == ["n0", "n1", "n2", "n3"]
        # a redelivered webhook is dropped; one without a sequence number is handed on as it comes
        await post_signed(url, notification("again"), headers={SEQUENCE: "s1:2"})
        await post_signed(url, notification("unnumbered"))
        assert await next_text(read_stream) == "unnumbered"
