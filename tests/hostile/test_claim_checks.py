"""Hostile claim checks: a pointer on a queue is untrusted input, never a licence to read or delete S3.

Each test plays an attacker who can write to a request or reply queue (not to the payload
bucket) against a real SDK server and client over moto. The attacker's messages carry
`asyncmcp-claim-check` pointers to places the receiver must not follow: another bucket, a
bucket where none is configured, another client's payload, a key or bucket that does not exist.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid

import anyio
import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws.payloads import CLAIM_CHECK, KEY_PREFIX
from asyncmcp_cli.client import open_client
from asyncmcp_cli.protocol import codec
from tests.conftest import Queues, wait_until
from tests.testapp import ControlledApp
from tests.transports.contract import running
from tests.transports.test_sqs import sqs_transport

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

REFUSED = "asyncmcp: claim check refused"
CLAIM_DIGEST = "asyncmcp-claim-digest"  # on the wire: the SHA-256 of the payload a pointer names


def new_bucket(queues: Queues) -> str:
    name = f"asyncmcp-claims-{uuid.uuid4().hex[:10]}"
    s3(queues).create_bucket(Bucket=name)
    return name


def s3(queues: Queues):
    return aws.client("s3", queues.endpoint.settings)


def keys_in(queues: Queues, bucket: str) -> set[str]:
    return {o["Key"] for o in s3(queues).list_objects_v2(Bucket=bucket).get("Contents", [])}


def call_body(rid: int, text: str) -> str:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    params = {"name": "echo", "arguments": {"text": text}, "_meta": meta}
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})


def put_payload(queues: Queues, bucket: str, body: str) -> tuple[str, str]:
    """An object under the payload prefix, as someone with write access to `bucket` left it: (pointer, digest)."""
    key = f"{KEY_PREFIX}{uuid.uuid4().hex}"
    s3(queues).put_object(Bucket=bucket, Key=key, Body=body.encode())
    return f"s3://{bucket}/{key}", hashlib.sha256(body.encode()).hexdigest()


def send_pointer(
    queues: Queues, url: str, pointer: str, *, rid: int, client_id: str, reply_to: str | None, digest: str
) -> None:
    attributes = {CLAIM_CHECK: pointer, CLAIM_DIGEST: digest, codec.CLIENT_ID: client_id}
    if reply_to is not None:
        attributes[codec.REPLY_TO] = reply_to
    queues.sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({CLAIM_CHECK: pointer, "id": rid}),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


async def wait_for_answers(queues: Queues, url: str, count: int) -> dict[int, dict]:
    """Wait for `count` JSON-RPC answers on `url` (taking them off it), keyed by request id."""
    found: dict[int, dict] = {}

    def take() -> bool:
        for raw in queues.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            answer = json.loads(raw["Body"])
            found[answer.get("id", -len(found))] = answer  # no id: a large answer's claim-check stub
            queues.sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
        return len(found) >= count

    await wait_until(take, within=30)
    return found


def refusal(answer: dict) -> str | None:
    """The error text of an answer (None for a result: the pointer was followed and the request ran)."""
    return answer.get("error", {}).get("message")


def attacker_queue(queues: Queues) -> str:
    return queues.create(queues.prefix + "attacker")


async def test_a_pointer_into_a_foreign_bucket_is_not_followed(queues: Queues) -> None:
    app = ControlledApp()
    foreign = new_bucket(queues)
    pointer, digest = put_payload(queues, foreign, call_body(1, "from-the-foreign-bucket"))
    reply_url = attacker_queue(queues)
    async with running(app, sqs_transport(queues, wait_seconds=1, payload_bucket=new_bucket(queues))):
        send_pointer(
            queues, queues.request_url, pointer, rid=1, client_id="attacker", reply_to=reply_url, digest=digest
        )
        answers = await wait_for_answers(queues, reply_url, 1)
    assert refusal(answers[1]) == REFUSED
    assert app.executions["echo:from-the-foreign-bucket"] == 0
    assert keys_in(queues, foreign) == {pointer.split("/", 3)[3]}  # read by nobody, deleted by nobody


async def test_without_a_payload_bucket_no_pointer_is_followed(queues: Queues) -> None:
    app = ControlledApp()
    bucket = new_bucket(queues)
    pointer, digest = put_payload(queues, bucket, call_body(2, "no-bucket-configured"))
    reply_url = attacker_queue(queues)
    async with running(app, sqs_transport(queues, wait_seconds=1)):  # no payload_bucket
        send_pointer(
            queues, queues.request_url, pointer, rid=2, client_id="attacker", reply_to=reply_url, digest=digest
        )
        answers = await wait_for_answers(queues, reply_url, 1)
    assert refusal(answers[2]) == REFUSED
    assert app.executions["echo:no-bucket-configured"] == 0
    assert len(keys_in(queues, bucket)) == 1


async def test_another_clients_payload_is_neither_run_for_an_attacker_nor_deleted(queues: Queues) -> None:
    """The victim, a real client, sends a large request; the attacker learns its pointer and digest
    and sends them under its own client id, then under the victim's id with its own reply queue
    (which a server that already serves the victim refuses anyway: client ids are bound to their
    first reply address)."""
    app = ControlledApp()
    bucket = new_bucket(queues)
    transport = sqs_transport(queues, wait_seconds=1, payload_bucket=bucket)
    secret = "victim-" + "v" * 300_000
    stolen: dict[str, str] = {}

    def steal() -> bool:  # take the victim's messages off the queue before any server sees them
        for raw in queues.sqs.receive_message(
            QueueUrl=queues.request_url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
        ).get("Messages", []):
            queues.sqs.delete_message(QueueUrl=queues.request_url, ReceiptHandle=raw["ReceiptHandle"])
            attributes = {k: v["StringValue"] for k, v in raw.get("MessageAttributes", {}).items()}
            if CLAIM_CHECK in attributes:
                stolen.update(attributes)
        return bool(stolen) and queues.counts(queues.request_url) == (0, 0)

    async with open_client(transport, client_id="victim", timeout=60) as victim, anyio.create_task_group() as tg:
        tg.start_soon(victim.call_tool, "echo", {"text": secret})
        await wait_until(steal, within=30)
        tg.cancel_scope.cancel()
    # The victim's courtesy cancellation goes too: the server then holds no session for the victim's
    # client id, so only the payload's binding stands between the attacker and the victim's request.
    await wait_until(steal, within=30)
    [key] = keys_in(queues, bucket)
    reply_url = attacker_queue(queues)
    pointer, digest = stolen[CLAIM_CHECK], stolen.get(CLAIM_DIGEST, "0" * 64)
    async with running(app, transport):
        send_pointer(
            queues, queues.request_url, pointer, rid=3, client_id="attacker", reply_to=reply_url, digest=digest
        )
        send_pointer(queues, queues.request_url, pointer, rid=4, client_id="victim", reply_to=reply_url, digest=digest)
        answers = await wait_for_answers(queues, reply_url, 2)
    assert {rid: refusal(answer) for rid, answer in answers.items()} == {3: REFUSED, 4: REFUSED}
    assert app.executions[f"echo:{secret}"] == 0
    assert keys_in(queues, bucket) == {key}


async def test_a_missing_key_and_a_missing_bucket_get_the_same_answer(queues: Queues) -> None:
    bucket = new_bucket(queues)
    reply_url = attacker_queue(queues)
    digest = hashlib.sha256(b"anything").hexdigest()
    pointers = {
        5: f"s3://{bucket}/{KEY_PREFIX}{uuid.uuid4().hex}",  # the server's own bucket, no such key
        6: f"s3://asyncmcp-no-such-bucket-{uuid.uuid4().hex[:10]}/{KEY_PREFIX}{uuid.uuid4().hex}",
        7: f"s3://{new_bucket(queues)}/{KEY_PREFIX}{uuid.uuid4().hex}",  # a bucket that exists, no such key
    }
    async with running(ControlledApp(), sqs_transport(queues, wait_seconds=1, payload_bucket=bucket)):
        for rid, pointer in pointers.items():
            send_pointer(
                queues, queues.request_url, pointer, rid=rid, client_id="attacker", reply_to=reply_url, digest=digest
            )
        answers = await wait_for_answers(queues, reply_url, len(pointers))
    assert {rid: refusal(answer) for rid, answer in answers.items()} == dict.fromkeys(pointers, REFUSED)


async def test_a_client_refuses_a_forged_pointer_on_its_reply_queue(
    queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    """Pointers into another bucket and to an object in its own bucket that is not bound to it:
    the client reads neither, deletes neither, drops both messages with a log line, and goes on."""
    caplog.set_level(logging.WARNING, logger="asyncmcp_cli.transports.queue_client")
    own, foreign = new_bucket(queues), new_bucket(queues)
    forged = json.dumps({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": 1}})
    planted = [put_payload(queues, own, forged), put_payload(queues, foreign, forged)]
    transport = sqs_transport(queues, wait_seconds=1, payload_bucket=own)
    async with running(ControlledApp(), transport), open_client(transport, client_id="me", timeout=30) as client:
        for rid, (pointer, digest) in enumerate(planted, start=8):
            send_pointer(queues, queues.reply_url, pointer, rid=rid, client_id="me", reply_to=None, digest=digest)
        await wait_until(lambda: queues.counts(queues.reply_url) == (0, 0), within=30)
        assert (await client.call_tool("echo", {"text": "still here"})).content[0].text == "still here"
    assert len(keys_in(queues, own)) == 1 and len(keys_in(queues, foreign)) == 1
    refusals = [r for r in caplog.records if "claim check refused" in r.getMessage()]
    assert len(refusals) == 2


async def test_a_client_without_a_payload_bucket_follows_no_pointer_and_says_so(queues: Queues) -> None:
    """The server has a bucket, the client none: its large answer is refused with a clear error, not a hang."""
    from mcp.shared.exceptions import MCPError

    bucket = new_bucket(queues)
    async with (
        running(ControlledApp(), sqs_transport(queues, wait_seconds=1, payload_bucket=bucket)),
        open_client(sqs_transport(queues, wait_seconds=1), timeout=30) as client,
    ):
        with pytest.raises(MCPError, match="claim check refused"):
            await client.call_tool("big", {"size": 300_000})
        assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"
    assert len(keys_in(queues, bucket)) == 1  # refused, so not deleted (the bucket's lifecycle rule will)
