"""Hostile reply addresses end to end: a server must write nothing to an address it did not allow.

Real moto server for the queue transport, a real loopback webhook server and
a recording receiver for the webhook transport.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from asyncmcp_cli import codec
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running

pytestmark = pytest.mark.anyio

CALL = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {
            "name": "echo",
            "arguments": {"text": "for the victim"},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }
)


def messages_on(queues: Queues, url: str) -> list[dict]:
    return queues.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("disguise", ["?x=/", "#/", "/"])
async def test_a_victim_queue_disguised_as_an_allowed_name_gets_nothing(
    queues: Queues, disguise: str, caplog: pytest.LogCaptureFixture
) -> None:
    victim_url = queues.create(f"victim-{uuid.uuid4().hex[:10]}")
    allowed_url = queues.create(queues.prefix + "ok")
    dlq_url = queues.create(queues.prefix + "dlq")
    server_side = SqsTransport(
        endpoint_url=queues.endpoint.url,
        request_queue=queues.request,
        allow_reply=(queues.prefix + "*",),
        dead_letter_queue=queues.prefix + "dlq",
    )
    hostile = f"{victim_url}{disguise}{queues.prefix}ok"
    caplog.set_level(logging.WARNING)
    app = ControlledApp()
    async with running(app, server_side):
        queues.sqs.send_message(
            QueueUrl=queues.request_url,
            MessageBody=CALL,
            MessageAttributes={
                codec.CLIENT_ID: {"DataType": "String", "StringValue": "attacker"},
                codec.REPLY_TO: {"DataType": "String", "StringValue": hostile},
            },
        )
        await wait_until(lambda: queues.counts(queues.request_url) == (0, 0), within=30)  # settled, one way or another
    assert messages_on(queues, victim_url) == []
    assert messages_on(queues, allowed_url) == []
    assert app.executions["echo:for the victim"] == 0
    await wait_until(lambda: queues.counts(dlq_url) == (1, 0))
    assert any(f"refusing reply address {hostile!r}" in r.getMessage() for r in caplog.records)
