"""Hostile reply addresses end to end: a server must write nothing to an address it did not allow.

Real moto server for the queue transport, a real loopback webhook server and
a recording receiver for the webhook transport.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import httpx2
import pytest

from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.sqs import SqsTransport
from asyncmcp_cli.transports.webhook.transport import WebhookTransport
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.webhook_support import ScriptedReceiver, loopback_options, tool_call

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


@pytest.mark.timeout(120)
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


@pytest.mark.timeout(120)
@pytest.mark.parametrize("named_by", ["url", "name"])
async def test_an_allowed_reply_queue_that_does_not_exist_sends_the_request_to_the_dead_letters(
    queues: Queues, named_by: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No minute of retries per message, no redelivery to run the call again: nobody can ever read the answer."""
    dlq_url = queues.create(queues.prefix + "dlq")
    server_side = SqsTransport(
        endpoint_url=queues.endpoint.url,
        request_queue=queues.request,
        allow_reply=(queues.prefix + "*",),
        dead_letter_queue=queues.prefix + "dlq",
    )
    missing = queues.prefix + "missing"
    address = queues.request_url.rsplit("/", 1)[0] + "/" + missing if named_by == "url" else missing
    caplog.set_level(logging.WARNING)
    app = ControlledApp()
    async with running(app, server_side):
        queues.sqs.send_message(
            QueueUrl=queues.request_url,
            MessageBody=CALL,
            MessageAttributes={
                codec.CLIENT_ID: {"DataType": "String", "StringValue": "nobody"},
                codec.REPLY_TO: {"DataType": "String", "StringValue": address},
            },
        )
        await wait_until(lambda: queues.counts(dlq_url) == (1, 0), within=20)
        await wait_until(lambda: queues.counts(queues.request_url) == (0, 0))
    assert app.executions["echo:for the victim"] == 1  # run once, not once per redelivery
    assert any("of client nobody is unreachable" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "host",
    [
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[2002:a9fe:a9fe::]",  # 6to4 of 169.254.169.254, the cloud metadata address
        "[2606:4700::5efe:7f00:1]",  # ISATAP interface id of 127.0.0.1 under a global prefix
    ],
)
async def test_a_webhook_url_hiding_loopback_in_ipv6_gets_no_post(tmp_path: Path, host: str) -> None:
    """127.0.0.1 is named literally (trusted); the wildcard must not let the same place in through IPv6."""
    app = ControlledApp()
    transport = WebhookTransport(
        **(loopback_options(tmp_path) | {"allow_webhook": ("http://127.0.0.1:*", "http://*:*")})
    )
    receiver = ScriptedReceiver()
    async with running(app, transport), receiver.running() as bound, httpx2.AsyncClient(timeout=20) as http:

        async def ask(reply_to: str, text: str) -> httpx2.Response:
            headers = {"content-type": "application/json", codec.CLIENT_ID: f"c-{text}", codec.REPLY_TO: reply_to}
            body = json.dumps(tool_call("echo", {"text": text}, rid=9))
            return await http.post(transport.server_url, content=body, headers=headers)

        hostile = await ask(f"http://{host}:{bound.port}/webhook", "hostile")
        assert hostile.status_code == 403
        assert hostile.json()["id"] == 9
        assert "private, loopback or link-local" in hostile.json()["error"]["message"]
        control = await ask(bound.url("/webhook"), "control")  # the same receiver, named as allowed
        assert control.status_code == 202
        await wait_until(lambda: len(receiver.arrivals) == 1)
    assert [arrival.json()["result"]["content"][0]["text"] for arrival in receiver.arrivals] == ["control"]
    assert app.executions["echo:hostile"] == 0
