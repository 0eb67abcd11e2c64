"""Answers nobody will collect leave the shared reply queue: expiry stamped by the server, honoured by
every reader. Real moto server, real SDK client and server."""

from __future__ import annotations

import json
import time

import anyio
import pytest

from asyncmcp_cli.client import open_client
from asyncmcp_cli.delivery import reply_expiry
from asyncmcp_cli.protocol import codec
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_delivery import call_body
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


def on_queue(queues: Queues, url: str) -> int:
    visible, in_flight = queues.counts(url)
    return visible + in_flight


async def test_the_answer_to_a_client_killed_mid_call_leaves_the_shared_queue_and_a_later_session_is_answered(
    queues: Queues,
) -> None:
    app = ControlledApp()
    async with running(app, sqs_transport(queues)):
        async with anyio.create_task_group() as tg:

            async def doomed_client() -> None:
                async with open_client(sqs_transport(queues, reply_ttl=2), client_id="doomed", timeout=60) as client:
                    await client.call_tool("wait_for_gate", {"tag": "orphan"})

            tg.start_soon(doomed_client)
            with anyio.fail_after(20):
                await app.started.wait()
            tg.cancel_scope.cancel()  # the client goes away mid-call, as a killed process would
        app.gate.set()  # the server answers a client that is no longer there
        await wait_until(lambda: on_queue(queues, queues.reply_url) == 1, within=20)

        async with open_client(sqs_transport(queues), client_id="later", timeout=60) as later:
            with anyio.fail_after(20):
                assert (await later.call_tool("echo", {"text": "still here"})).content[0].text == "still here"
            # The orphan (2 s to live) is deleted by this session's reads, not hidden and offered forever.
            await wait_until(lambda: on_queue(queues, queues.reply_url) == 0, within=30)
            with anyio.fail_after(20):
                assert (await later.call_tool("echo", {"text": "again"})).content[0].text == "again"
    assert app.executions["gate:orphan"] == 1


async def test_only_well_formed_expiries_in_the_past_are_deleted_by_another_client(queues: Queues) -> None:
    now = time.time()
    stamps = {"expired": str(int(now) - 5), "future": str(int(now) + 3600), "malformed": "soon", "absent": None}
    for owner, stamp in stamps.items():
        attributes = {codec.CLIENT_ID: {"DataType": "String", "StringValue": owner}}
        if stamp is not None:
            attributes[reply_expiry.EXPIRES_AT] = {"DataType": "String", "StringValue": stamp}
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {}})
        queues.sqs.send_message(QueueUrl=queues.reply_url, MessageBody=body, MessageAttributes=attributes)
    async with (
        running(ControlledApp(), sqs_transport(queues)),
        open_client(sqs_transport(queues), timeout=60) as client,
    ):
        await wait_until(lambda: on_queue(queues, queues.reply_url) == 3, within=20)
        with anyio.fail_after(20):
            assert (await client.call_tool("echo", {"text": "x"})).content[0].text == "x"
    owners = set()
    await wait_until(lambda: queues.counts(queues.reply_url)[1] == 0, within=90)  # hidden ones come back
    for _ in range(10):
        got = queues.sqs.receive_message(
            QueueUrl=queues.reply_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
        )
        owners |= {m["MessageAttributes"][codec.CLIENT_ID]["StringValue"] for m in got.get("Messages", [])}
        if len(owners) == 3:
            break
    assert owners == {"future", "malformed", "absent"}


@pytest.mark.parametrize(
    ("declared", "granted"),
    [("5", 5), ("999999", 3600), ("junk", 3600), ("-4", 3600), ("nan", 3600), (None, 3600), ("0", 1)],
)
async def test_the_server_stamps_each_answer_with_the_declared_ttl_within_its_ceiling(
    queues: Queues, declared: str | None, granted: int
) -> None:
    attributes = {
        codec.CLIENT_ID: {"DataType": "String", "StringValue": "raw"},
        codec.REPLY_TO: {"DataType": "String", "StringValue": queues.reply_url},
    }
    if declared is not None:
        attributes[reply_expiry.REPLY_TTL] = {"DataType": "String", "StringValue": declared}
    async with running(ControlledApp(), sqs_transport(queues, max_reply_ttl=3600)):
        before = time.time()
        queues.sqs.send_message(
            QueueUrl=queues.request_url, MessageBody=call_body(1, "echo", {"text": "t"}), MessageAttributes=attributes
        )
        got: list[dict] = []

        def answered() -> bool:
            got.extend(
                queues.sqs.receive_message(QueueUrl=queues.reply_url, MessageAttributeNames=["All"]).get("Messages", [])
            )
            return bool(got)

        await wait_until(answered, within=20)
    expires = float(got[0]["MessageAttributes"][reply_expiry.EXPIRES_AT]["StringValue"])
    assert before + granted - 1 <= expires <= time.time() + granted + 1
