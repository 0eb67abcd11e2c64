"""A client id is not a key to someone else's session.

Client ids can be predictable (a fixed `--client-id`, a provisioned profile's id). A message
that names a victim's client id but another reply address (or, on SQS, comes from another
sender) must not reach the victim's session, nor move its replies anywhere: it is
dead-lettered, logged once per client id, and nothing is sent to the attacker.
"""

from __future__ import annotations

import json
import logging
import uuid

import anyio
import pytest

from asyncmcp_cli.aws.sqs_queues import SqsQueues
from asyncmcp_cli.client import open_client
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports import memory
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_delivery import call_body, messages_on, queue_with_dead_letters
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

VICTIM = "asyncmcp-client-1"
"""A predictable id, as the sns+sqs profile hands out."""


def send_as_attacker(queues: Queues, body: str, reply_to: str) -> None:
    attributes = {codec.CLIENT_ID: VICTIM, codec.REPLY_TO: reply_to}
    queues.sqs.send_message(
        QueueUrl=queues.request_url,
        MessageBody=body,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


@pytest.mark.parametrize("era", ["stateless", "handshake"])
async def test_a_notification_with_the_victims_client_id_does_not_take_its_session(
    queues: Queues, caplog: pytest.LogCaptureFixture, era: str
) -> None:
    dlq_url, _ = queue_with_dead_letters(queues)
    attacker_queue = queues.create(queues.prefix + "attacker")  # allow-listed: it has the server's prefix
    caplog.set_level(logging.WARNING)
    app = ControlledApp()
    transport = sqs_transport(queues)
    async with running(app, transport), open_client(transport, era=era, client_id=VICTIM, timeout=20) as victim:
        assert (await victim.call_tool("echo", {"text": "before"})).content[0].text == "before"
        answers: list[str] = []
        async with anyio.create_task_group() as tg:

            async def long_call() -> None:
                answers.append((await victim.call_tool("wait_for_gate", {"tag": "victim"})).content[0].text)

            tg.start_soon(long_call)
            await app.started.wait()  # the victim's call is running: its answer is due to its session's address
            cancel_nothing = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}}
            for _ in range(3):
                send_as_attacker(queues, json.dumps(cancel_nothing), attacker_queue)
            send_as_attacker(queues, call_body(1, "echo", {"text": "stolen"}), attacker_queue)
            await wait_until(lambda: queues.counts(queues.request_url) == (0, 1), within=15)  # only the victim's left
            app.gate.set()
        assert answers == ["gate opened victim"]
        await wait_until(lambda: len(messages_on(queues, dlq_url)) == 4, within=15)
    assert queues.sqs.receive_message(QueueUrl=attacker_queue, WaitTimeSeconds=0).get("Messages") is None
    assert app.executions["echo:stolen"] == 0
    refusals = [r for r in caplog.records if "refusing messages for client" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in caplog.records]
    assert VICTIM in refusals[0].getMessage() and attacker_queue in refusals[0].getMessage()


async def test_sqs_reports_the_sender_a_session_is_bound_to(queues: Queues) -> None:
    queues.sqs.send_message(QueueUrl=queues.request_url, MessageBody="{}")
    sqs = SqsQueues(queues.endpoint.settings)
    async with sqs.running():
        [received] = await sqs.receive(queues.request_url, wait_seconds=1)
    assert received.sender_id  # moto reports one fixed id; AWS the sending principal


async def test_another_sender_cannot_cancel_the_victims_call_from_its_reply_address() -> None:
    """Where the channel names the sender (SQS SenderId), knowing the id and the reply address is not enough."""
    app = ControlledApp()
    transport = memory.MemoryTransport(f"hijack-{uuid.uuid4().hex}")
    routing = {codec.CLIENT_ID: VICTIM, codec.REPLY_TO: f"memory:{VICTIM}"}
    async with running(app, transport), transport.connect(client_id=VICTIM) as (read_stream, _write):
        await memory.inject(
            transport.name, call_body(7, "wait_for_gate", {"tag": "victim"}), routing, sender="victim-principal"
        )
        await app.started.wait()
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}
        await memory.inject(transport.name, json.dumps(cancel), routing, sender="attacker-principal")
        await memory.inject(transport.name, call_body(8, "echo", {"text": "stolen"}), routing, sender="attacker")
        # the victim's own messages still get through: this one proves the two above were handled first
        await memory.inject(transport.name, call_body(9, "echo", {"text": "mine"}), routing, sender="victim-principal")
        with anyio.fail_after(15):
            first = await read_stream.receive()
        app.gate.set()
        with anyio.fail_after(15):
            second = await read_stream.receive()
    assert [codec.request_id_of(first.message), codec.request_id_of(second.message)] == [9, 7]
    assert second.message.result["content"][0]["text"] == "gate opened victim"  # type: ignore[union-attr]
    assert app.executions["echo:stolen"] == 0
