"""Dead letters: shown with their receive counts, and moved back to their source queue."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.inspect import TailOptions, redrive, tail
from asyncmcp_cli.inspect.redrive import REDRIVE_ATTRIBUTE, SOURCE_ATTRIBUTE
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.cli.connect_support import CLI, cli_env
from tests.conftest import Queues, wait_until, wait_until_sync
from tests.faults.tcp_proxy import TcpProxy
from tests.testapp import ControlledApp
from tests.transports.contract import running

pytestmark = pytest.mark.anyio


def with_dlq(queues: Queues, source: str, dlq: str, max_receives: int = 1) -> tuple[str, str]:
    dlq_url = queues.create(dlq)
    dlq_arn = queues.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    return queues.create(source, RedrivePolicy=policy), dlq_url


def dead_letter(queues: Queues, source_url: str, dlq_url: str, body: str, **attributes: str) -> None:
    """Send a message and receive it until SQS moves it to the dead-letter queue."""
    before = sum(queues.counts(dlq_url))
    queues.sqs.send_message(
        QueueUrl=source_url,
        MessageBody=body,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )

    def moved() -> bool:
        queues.sqs.receive_message(QueueUrl=source_url, VisibilityTimeout=0)
        return sum(queues.counts(dlq_url)) > before

    wait_until_sync(moved)


async def test_dead_letters_are_shown_and_moved_back(queues: Queues) -> None:
    source, dlq = with_dlq(queues, queues.prefix + "work", queues.prefix + "work-dlq")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}})
    dead_letter(queues, source, dlq, body, **{codec.CLIENT_ID: "c1"})
    dead_letter(queues, source, dlq, "poison")

    seen: list = []
    with anyio.fail_after(20):
        await tail(queues.endpoint.settings, [dlq], TailOptions(), seen.append)
    assert sorted(o.kind for o in seen) == ["invalid", "request"]
    assert all(o.receive_count >= 2 for o in seen)  # its receives in the source queue, and ours

    with anyio.fail_after(20):
        result = await redrive(queues.endpoint.settings, dlq)
    assert (result.moved, result.failed, result.source) == (2, 0, queues.prefix + "work")
    await wait_until(lambda: queues.counts(dlq) == (0, 0) and queues.counts(source) == (2, 0))
    moved = queues.sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    bodies = {m["Body"]: m.get("MessageAttributes", {}) for m in moved["Messages"]}
    assert bodies[body][codec.CLIENT_ID]["StringValue"] == "c1"  # attributes travel back too
    assert "poison" in bodies


async def test_redrive_to_a_named_queue_with_a_limit(queues: Queues) -> None:
    source, dlq = with_dlq(queues, queues.prefix + "a", queues.prefix + "a-dlq")
    for n in range(3):
        dead_letter(queues, source, dlq, f"letter {n}")
    with anyio.fail_after(20):
        result = await redrive(queues.endpoint.settings, dlq, to=queues.request, limit=2)
    assert (result.moved, result.source) == (2, queues.request)
    await wait_until(lambda: queues.counts(queues.request_url)[0] == 2 and queues.counts(dlq)[0] == 1)


async def test_a_source_named_by_the_server_wins_and_is_not_carried_back(queues: Queues) -> None:
    dlq = queues.create(queues.prefix + "poison")
    foreign = "http://elsewhere.example:4566/999999999999/" + queues.request  # not beside the DLQ: ignored
    for source in (queues.request_url, foreign):
        queues.sqs.send_message(
            QueueUrl=dlq,
            MessageBody=f"from {source}",
            MessageAttributes={"asyncmcp-dead-letter-source": {"DataType": "String", "StringValue": source}},
        )
    with anyio.fail_after(20):
        result = await redrive(queues.endpoint.settings, dlq)
    assert (result.moved, result.failed, result.source) == (1, 1, queues.request)
    assert "no queue uses" in (result.problem or "")  # the foreign one had nowhere to go: it stays
    await wait_until(lambda: queues.counts(dlq) == (1, 0) and queues.counts(queues.request_url) == (1, 0))
    (moved,) = queues.sqs.receive_message(QueueUrl=queues.request_url, MessageAttributeNames=["All"])["Messages"]
    assert moved["Body"] == f"from {queues.request_url}"
    assert set(moved["MessageAttributes"]) == {REDRIVE_ATTRIBUTE}  # the source is not carried back; the run's mark is


async def test_nothing_to_move_and_ambiguous_sources(queues: Queues) -> None:
    empty = queues.create(queues.prefix + "empty")
    result = await redrive(queues.endpoint.settings, empty)
    assert (result.moved, result.source) == (0, "")
    dlq_url = queues.create(queues.prefix + "shared-dlq")
    arn = queues.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    queues.create(queues.prefix + "one", RedrivePolicy=policy)
    queues.create(queues.prefix + "two", RedrivePolicy=policy)
    queues.sqs.send_message(QueueUrl=dlq_url, MessageBody="stuck")
    with pytest.raises(ConfigurationError, match="several queues"):
        await redrive(queues.endpoint.settings, dlq_url)
    await wait_until(lambda: queues.counts(dlq_url) == (1, 0))  # given back, not lost


def redrive_process(queues: Queues, dlq_url: str, endpoint: str | None = None) -> subprocess.Popen[str]:
    env = cli_env(queues) | ({"AWS_ENDPOINT_URL": endpoint} if endpoint else {})
    return subprocess.Popen(
        [*CLI, "tail", dlq_url, "--redrive"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


async def finished(process: subprocess.Popen[str], *, within: float) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `process`; killed, and the test failed, if it has not ended `within` s."""
    try:
        out, err = await anyio.to_thread.run_sync(lambda: process.communicate(timeout=within))
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"`tail --redrive` was still running after {within} s")
    return process.returncode, out, err


@pytest.mark.timeout(90)
async def test_redrive_ends_while_a_server_dead_letters_the_same_messages_again(queues: Queues) -> None:
    """The server sends each poison message straight back (a new message id each time): a snapshot is moved once."""
    dlq_url = queues.create(queues.prefix + "dlq")
    server_side = SqsTransport(
        endpoint_url=queues.endpoint.url,
        request_queue=queues.request,
        allow_reply=(queues.prefix + "*",),
        dead_letter_queue=queues.prefix + "dlq",
    )
    async with running(ControlledApp(), server_side):
        for n in range(5):
            queues.sqs.send_message(QueueUrl=queues.request_url, MessageBody=f"poison {n}")  # no routing at all
        await wait_until(lambda: queues.counts(dlq_url) == (5, 0), within=30)
        started = time.monotonic()
        code, out, err = await finished(redrive_process(queues, dlq_url), within=40)
        print(f"\nredrive with a server re-dead-lettering: {time.monotonic() - started:.1f} s")
        assert code == 0, err
        assert out.strip() == f"moved 5 messages from {queues.prefix}dlq back to {queues.request}"
        await wait_until(lambda: queues.counts(dlq_url)[0] == 5)  # all five back where the server put them


class SlowProxy(TcpProxy):
    """A forwarder that holds each chunk a moment: a redrive through it takes seconds, not milliseconds."""

    @staticmethod
    def _pump(source, sink) -> None:  # type: ignore[no-untyped-def, override]
        try:
            while chunk := source.recv(65536):
                time.sleep(0.1)  # the point: a slow endpoint, on the proxy's own thread
                sink.sendall(chunk)
            sink.shutdown(1)
        except OSError:
            pass


@pytest.mark.timeout(90)
async def test_ctrl_c_during_a_redrive_prints_what_was_moved(queues: Queues) -> None:
    dlq_url = queues.create(queues.prefix + "dlq")
    for batch in range(8):
        queues.sqs.send_message_batch(
            QueueUrl=dlq_url,
            Entries=[
                {
                    "Id": str(n),
                    "MessageBody": f"letter {batch}-{n}",
                    "MessageAttributes": {SOURCE_ATTRIBUTE: {"DataType": "String", "StringValue": queues.request_url}},
                }
                for n in range(10)
            ],
        )
    port = urlsplit(queues.endpoint.url).port
    assert port is not None
    proxy = SlowProxy(port)
    proxy.start()
    try:
        process = redrive_process(queues, dlq_url, endpoint=proxy.url)
        try:
            await wait_until(lambda: queues.counts(queues.request_url)[0] >= 1, within=40)  # under way
            assert process.poll() is None, "the redrive ended before it could be interrupted"
            process.send_signal(signal.SIGINT)
        finally:
            code, out, err = await finished(process, within=30)
    finally:
        proxy.cut()
    assert code == 130, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    summary = re.fullmatch(
        rf"interrupted: moved (\d+) messages? from {queues.prefix}dlq back to {queues.request}", lines[0]
    )
    assert summary is not None, out
    assert 1 <= int(summary.group(1)) < 80
    await wait_until(lambda: sum(queues.counts(queues.request_url)) >= int(summary.group(1)))
