"""A message whose reply address cannot be reached must not stall the server for anyone else.

The attacker can only send to the request queue. It names a reply queue the allow-list
admits but that does not exist: the server must not spend a minute per message retrying it
inside the polling loop, and must settle the message (dead letter) within a bounded time,
whether the request runs or is answered again from the result cache.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import pytest

from asyncmcp_cli.client import open_client
from asyncmcp_cli.delivery.results import SqliteResultStore
from asyncmcp_cli.protocol import codec
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_delivery import messages_on, queue_with_dead_letters
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

VICTIM_DEADLINE = 15.0
"""Far below the 60 s a transient send is retried for, and generous for a loaded machine."""

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


def gone_queue_url(queues: Queues) -> str:
    """An allow-listed reply queue (it has the test's prefix) that does not exist."""
    return queues.request_url.replace(queues.request, queues.prefix + "gone")


def attacker_ping(queues: Queues, rid: int, reply_to: str) -> str:
    """Send a ping the way a foreign client would (raw boto3); returns its SQS message id."""
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "ping", "params": {"_meta": META}})
    attributes = {codec.CLIENT_ID: f"attacker-{rid}", codec.REPLY_TO: reply_to}
    return queues.sqs.send_message(
        QueueUrl=queues.request_url,
        MessageBody=body,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )["MessageId"]


async def test_pings_to_a_missing_reply_queue_are_dead_lettered_and_others_are_served(
    queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    dlq_url, _ = queue_with_dead_letters(queues)
    gone = gone_queue_url(queues)
    caplog.set_level(logging.WARNING)
    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport):
        for rid in range(1, 6):
            attacker_ping(queues, rid, gone)
        async with open_client(transport, timeout=VICTIM_DEADLINE) as client:
            with anyio.fail_after(VICTIM_DEADLINE):
                result = await client.call_tool("echo", {"text": "victim"})
        assert result.content[0].text == "victim"
        await wait_until(lambda: len(messages_on(queues, dlq_url)) == 5, within=VICTIM_DEADLINE)
        await wait_until(lambda: queues.counts(queues.request_url) == (0, 0), within=VICTIM_DEADLINE)
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage() and gone in r.getMessage()]
    assert len(unreachable) == 1, [r.getMessage() for r in caplog.records]


async def test_a_redelivery_answered_from_the_cache_does_not_block_intake(queues: Queues, tmp_path: Path) -> None:
    dlq_url, _ = queue_with_dead_letters(queues)
    cache = tmp_path / "results.db"
    message_id = attacker_ping(queues, 41, gone_queue_url(queues))
    # The server "answered" this request before (and crashed before deleting it): its response is stored.
    await SqliteResultStore(str(cache)).put(message_id, json.dumps({"jsonrpc": "2.0", "id": 41, "result": {}}))
    app = ControlledApp()
    transport = sqs_transport(queues, result_cache=f"sqlite:///{cache}")
    async with running(app, transport):
        await wait_until(lambda: queues.counts(queues.request_url) != (1, 0), within=VICTIM_DEADLINE)  # taken
        async with open_client(transport, timeout=VICTIM_DEADLINE) as client:
            with anyio.fail_after(VICTIM_DEADLINE):
                result = await client.call_tool("echo", {"text": "victim"})
        assert result.content[0].text == "victim"
        await wait_until(lambda: [m["MessageId"] for m in messages_on(queues, dlq_url)], within=VICTIM_DEADLINE)
        [dead] = messages_on(queues, dlq_url)
        assert json.loads(dead["Body"])["id"] == 41
