"""Delivery under faults: a killed server, a vanished endpoint, hostile input, a SIGTERM under load.

Real moto server, real subprocesses, a real TCP proxy for the outage. Marked
`faults` (they run in CI; `pytest -m faults` runs just these).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncmcp_cli import aws
from asyncmcp_cli.aws.payloads import CLAIM_CHECK, KEY_PREFIX
from asyncmcp_cli.client import open_client
from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.sqs import SqsTransport
from tests.conftest import Queues, read_until, wait_until
from tests.faults.tcp_proxy import TcpProxy
from tests.testapp import ControlledApp
from tests.transports.contract import running

pytestmark = [pytest.mark.anyio, pytest.mark.faults]

CLI = [sys.executable, "-m", "asyncmcp_cli"]
APP = "tests.observability.opsapp:server"


class ServerProcesses:
    """Starts `asyncmcp serve` subprocesses for one test and cleans them up."""

    def __init__(self, queues: Queues, log: Path, *extra: str) -> None:
        self.queues = queues
        self.log = log
        self.extra = extra
        self.processes: list[subprocess.Popen[str]] = []

    def start(self) -> subprocess.Popen[str]:
        env = os.environ | self.queues.endpoint.exports() | {"ASYNCMCP_OPS_LOG": str(self.log), "NO_COLOR": "1"}
        process = subprocess.Popen(
            [
                *CLI,
                "serve",
                APP,
                "--request-queue",
                self.queues.request,
                "--allow-reply",
                self.queues.prefix + "*",
                *self.extra,
            ],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.processes.append(process)
        read_until(process, "serving")
        return process

    def executions(self, event: str = "start") -> Counter[int]:
        """How often each call reached `event` ("start" or "done")."""
        if not self.log.exists():
            return Counter()
        lines = (line.split() for line in self.log.read_text().splitlines())
        return Counter(int(n) for n, _pid, _at, kind in lines if kind == event)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=20)
            process.stderr.close()  # type: ignore[union-attr]


@pytest.fixture
def servers(queues: Queues, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcesses]:
    extra = request.param if hasattr(request, "param") else ()
    processes = ServerProcesses(queues, tmp_path / "executions.log", *extra)
    yield processes
    processes.stop_all()


def client_transport(queues: Queues, endpoint: str | None = None, **options: object) -> SqsTransport:
    return SqsTransport(
        endpoint_url=endpoint or queues.endpoint.url, request_queue=queues.request, reply_queue=queues.reply, **options
    )


@pytest.mark.timeout(120)
async def test_server_killed_with_100_calls_in_flight(queues: Queues, tmp_path: Path) -> None:
    servers = ServerProcesses(
        queues,
        tmp_path / "executions.log",
        "--visibility-timeout",
        "3",
        "--max-in-flight",
        "100",
        "-o",
        f"result_cache=sqlite:///{tmp_path / 'results.db'}",
    )
    try:
        first = servers.start()
        results: dict[int, int] = {}
        enough_answered = anyio.Event()
        async with open_client(client_transport(queues), timeout=100) as client:

            async def call(n: int) -> None:
                result = await client.call_tool("record", {"n": n, "seconds": 0.5 + (n % 10) * 0.4})
                results[n] = int(result.content[0].text)
                if len(results) >= 10:
                    enough_answered.set()

            async with anyio.create_task_group() as tg:
                for n in range(100):
                    tg.start_soon(call, n)
                await enough_answered.wait()
                first.kill()  # SIGKILL: no graceful anything
                answered_before_kill = set(results)
                servers.start()
        executions = servers.executions("start")
    finally:
        servers.stop_all()
    assert results == {n: n for n in range(100)}  # every call answered, once, with its own answer
    assert set(executions) == set(range(100))
    assert [n for n in answered_before_kill if executions[n] != 1] == []  # nothing answered ran twice
    print(
        f"\nSIGKILL fault: sent 100, answered {len(results)}, answered before the kill {len(answered_before_kill)}, "
        f"executions {sum(executions.values())} (re-run after the kill: {sum(executions.values()) - 100})"
    )


async def calls_through_an_outage(
    queues: Queues, calls: int, outage: Callable[[TcpProxy], Awaitable[None]]
) -> tuple[ControlledApp, dict[int, str]]:
    """Make `calls` echo calls while `outage` breaks the endpoint (behind a TCP proxy) and restores it."""
    app = ControlledApp()
    moto_port = urlsplit(queues.endpoint.url).port
    assert moto_port is not None
    proxy = TcpProxy(moto_port)
    results: dict[int, str] = {}
    proxy.start()
    try:
        server_side = client_transport(queues, proxy.url, allow_reply=(queues.prefix + "*",))
        async with running(app, server_side), open_client(client_transport(queues, proxy.url), timeout=100) as client:
            assert (await client.call_tool("echo", {"text": "before"})).content[0].text == "before"
            async with anyio.create_task_group() as group:

                async def call(n: int) -> None:
                    results[n] = (await client.call_tool("echo", {"text": f"during-{n}"})).content[0].text

                for n in range(calls):
                    group.start_soon(call, n)
                await outage(proxy)
    finally:
        proxy.cut()
    return app, results


@pytest.mark.timeout(120)
async def test_endpoint_outage_is_ridden_out(queues: Queues) -> None:
    async def cut_for_ten_seconds(proxy: TcpProxy) -> None:
        proxy.cut()
        await anyio.sleep(10)  # the outage itself: the endpoint is gone for ten seconds
        proxy.start()

    app, results = await calls_through_an_outage(queues, 10, cut_for_ten_seconds)
    assert results == {n: f"during-{n}" for n in range(10)}
    assert all(app.executions[f"echo:during-{n}"] == 1 for n in range(10))


@pytest.mark.timeout(120)
async def test_endpoint_answering_http_500_is_ridden_out_like_a_lost_connection(queues: Queues) -> None:
    async def answer_500_for_a_while(proxy: TcpProxy) -> None:
        proxy.answer_500()
        await wait_until(lambda: proxy.answered_500 >= 30, within=60)  # sends and polls all got 500s
        proxy.forward_again()

    app, results = await calls_through_an_outage(queues, 5, answer_500_for_a_while)
    assert results == {n: f"during-{n}" for n in range(5)}
    assert all(app.executions[f"echo:during-{n}"] == 1 for n in range(5))


HOSTILE = st.one_of(
    st.text(max_size=300).map(lambda text: ("not-json", "{" + text, {})),
    st.binary(max_size=200).map(lambda raw: ("bytes", raw.decode("latin-1") or "x", {})),
    st.integers(1, 120_000).map(lambda n: ("huge", "Z" * n, {codec.CLIENT_ID: "huge"})),
    st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=20), max_size=5).map(
        lambda d: ("wrong-shape", json.dumps(d), {codec.CLIENT_ID: "shape"})
    ),
    st.text(min_size=1, max_size=60).map(
        lambda address: (
            "bogus-reply",
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            {codec.CLIENT_ID: "bogus", codec.REPLY_TO: "elsewhere-" + address},
        )
    ),
    st.just(("no-routing", json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}), {})),
)


@pytest.mark.timeout(400)
async def test_a_thousand_hostile_messages_do_not_stop_the_server(queues: Queues) -> None:
    dlq_url = queues.create(queues.prefix + "dlq")
    app = ControlledApp()
    transport = client_transport(
        queues, allow_reply=(queues.prefix + "*",), dead_letter_queue=queues.prefix + "dlq", max_in_flight=200
    )
    sent: Counter[str] = Counter()

    @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(HOSTILE, min_size=10, max_size=10))
    def send_hostile(batch: list[tuple[str, str, dict[str, str]]]) -> None:
        entries = [
            {
                "Id": str(i),
                "MessageBody": body,
                "MessageAttributes": {k: {"DataType": "String", "StringValue": v or "-"} for k, v in attrs.items()},
            }
            for i, (_, body, attrs) in enumerate(batch)
        ]
        if sum(len(body) for _, body, _ in batch) > 250_000:  # one batch call carries at most 256 KiB
            for entry in entries:
                queues.sqs.send_message(QueueUrl=queues.request_url, **{k: v for k, v in entry.items() if k != "Id"})
        else:
            response = queues.sqs.send_message_batch(QueueUrl=queues.request_url, Entries=entries)
            assert not response.get("Failed"), response["Failed"]
        sent.update(kind for kind, _, _ in batch)

    answered: list[str] = []
    async with running(app, transport), open_client(transport, timeout=180) as client, anyio.create_task_group() as tg:
        fuzzing = anyio.Event()

        async def fuzz() -> None:
            await anyio.to_thread.run_sync(send_hostile)
            fuzzing.set()

        tg.start_soon(fuzz)
        while not fuzzing.is_set():  # valid traffic in between the hostile messages
            answered.append((await client.call_tool("echo", {"text": f"valid-{len(answered)}"})).content[0].text)
        total = sum(sent.values())
        await wait_until(lambda: queues.counts(dlq_url)[0] == total, within=120, interval=0.5)
        answered.append((await client.call_tool("echo", {"text": "after"})).content[0].text)
    assert total == 1000
    assert answered == [f"valid-{i}" for i in range(len(answered) - 1)] + ["after"]
    assert queues.counts(queues.request_url) == (0, 0)
    print(f"\nhostile fuzz: {dict(sent)}; dead-lettered {total}; valid calls answered {len(answered)}")


def hostile_call(rid: int, **meta: str) -> str:
    """A well-formed stateless-era echo call (its routing, if any, in `_meta`)."""
    protocol = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    params = {"name": "echo", "arguments": {"text": "hostile"}, "_meta": protocol | meta}
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})


SQS_TEXT = st.characters(min_codepoint=0x20, max_codepoint=0xD7FF) | st.sampled_from("\t\n\r")
"""What an SQS message attribute may carry; NUL and other control characters travel in `_meta` instead."""
CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u202e")


class Scene:
    """What the hostile attributes aim at: a victim client, its objects and queues, an attacker's own queue."""

    def __init__(self, queues: Queues) -> None:
        self.queues = queues
        self.s3 = aws.client("s3", queues.endpoint.settings)
        self.own_bucket = queues.prefix + "payloads"
        self.victim_bucket = queues.prefix + "victim"
        for bucket in (self.own_bucket, self.victim_bucket):
            self.s3.create_bucket(Bucket=bucket)
        self.secret = f"secret-{uuid.uuid4().hex}"
        self.objects = [(self.victim_bucket, KEY_PREFIX + "theirs"), (self.own_bucket, "elsewhere/theirs")]
        for bucket, key in self.objects:
            self.s3.put_object(Bucket=bucket, Key=key, Body=self.secret.encode())
        self.attacker_url = queues.create(queues.prefix + "attacker")  # allow-listed: the attacker may read it
        self.victim_queue_url = queues.create(f"victim-{uuid.uuid4().hex[:10]}")  # not allow-listed
        self.account_url = queues.request_url.rsplit("/", 1)[0]

    def claim_checks(self) -> st.SearchStrategy[tuple[str, str, dict[str, str]]]:
        pointers = st.sampled_from(
            [
                f"s3://{self.victim_bucket}/{KEY_PREFIX}theirs",  # a foreign bucket
                f"s3://{self.own_bucket}/elsewhere/theirs",  # its own bucket, outside the prefix
                f"s3://{self.own_bucket}/{KEY_PREFIX}../elsewhere/theirs",  # traversal
                f"s3://{self.own_bucket}/{KEY_PREFIX}%2e%2e/elsewhere/theirs",
                f"s3://{self.own_bucket}/{KEY_PREFIX}missing",
                f"s3://{self.own_bucket}",
                "s3://",
                "s3:///x",
                f"http://{self.own_bucket}/{KEY_PREFIX}x",
                "s3://no-such-bucket-asyncmcp/x",
            ]
        ) | st.text(SQS_TEXT, min_size=1, max_size=80)
        return st.tuples(pointers, st.integers(1, 10**6)).map(
            lambda pair: (
                "claim-check",
                json.dumps({CLAIM_CHECK: pair[0], "size": pair[1]}),
                {codec.CLIENT_ID: "claims", codec.REPLY_TO: self.attacker_url, CLAIM_CHECK: pair[0]},
            )
        )

    def client_ids(self) -> st.SearchStrategy[tuple[str, str, dict[str, str]]]:
        reply = {codec.REPLY_TO: self.attacker_url}
        return st.one_of(
            st.text(SQS_TEXT, min_size=1, max_size=40).map(
                lambda cid: ("control-id", hostile_call(1), reply | {codec.CLIENT_ID: "c\r\n" + cid})
            ),
            st.text(CONTROL, min_size=1, max_size=20).map(
                lambda cid: ("nul-id", hostile_call(2, **{codec.META_CLIENT_ID: "c\x00" + cid}), reply)
            ),
            st.integers(1_000, 200_000).map(lambda n: ("huge-id", hostile_call(3), reply | {codec.CLIENT_ID: "h" * n})),
            st.integers(1, 10**6).map(
                lambda rid: ("victim-id", hostile_call(rid), reply | {codec.CLIENT_ID: VICTIM})  # a hijack attempt
            ),
        )

    def reply_addresses(self) -> st.SearchStrategy[tuple[str, str, dict[str, str]]]:
        allowed = self.queues.prefix + "ok"
        victim = self.victim_queue_url
        shapes = st.sampled_from(
            [
                f"{victim}?x=/{allowed}",
                f"{victim}#/{allowed}",
                f"{victim}/{allowed}",
                f"{self.account_url}/{allowed}/",
                f"{self.account_url}/{allowed}?",
                "arn:aws:sqs:us-east-1:123456789012:victim:" + allowed,
                "arn:aws:sns:us-east-1:123456789012",
                "arn:aws:sqs:us-east-1:1234:" + allowed,
                f"arn:aws:iam::123456789012:{allowed}",
                f"{self.account_url}/{self.queues.prefix}nonexistent",  # allow-listed, but there is no such queue
                self.queues.prefix + "nonexistent",
            ]
        )
        with_nul = st.text(CONTROL, min_size=1, max_size=10).map(
            lambda junk: (
                "nul-reply",
                hostile_call(4, **{codec.META_REPLY_TO: f"{self.attacker_url}{junk}"}),
                {codec.CLIENT_ID: "replies"},
            )
        )
        return with_nul | shapes.map(
            lambda address: ("bad-reply", hostile_call(5), {codec.CLIENT_ID: "replies", codec.REPLY_TO: address})
        )

    def everything_received(self, url: str) -> list[str]:
        bodies: list[str] = []
        while batch := self.queues.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.extend(message["Body"] for message in batch)
            self.queues.sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            )
        return bodies


VICTIM = "victim-client"


@pytest.mark.timeout(170)
@pytest.mark.parametrize("family", ["claim_checks", "client_ids", "reply_addresses"])
async def test_hostile_attributes_do_not_stop_the_server_or_reach_a_victim(queues: Queues, family: str) -> None:
    """Well-formed calls with hostile routing and claim checks, between a victim client's own calls."""
    scene = Scene(queues)
    hostile = getattr(scene, family)()
    queues.create(queues.prefix + "dlq")
    app = ControlledApp()
    server_side = client_transport(
        queues,
        allow_reply=(queues.prefix + "*",),
        dead_letter_queue=queues.prefix + "dlq",
        max_in_flight=200,
        payload_bucket=scene.own_bucket,
    )
    victim = SqsTransport(
        endpoint_url=queues.endpoint.url, request_queue=queues.request, reply_queue=queues.prefix + "victim-replies"
    )
    sent: Counter[str] = Counter()

    @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(hostile, min_size=10, max_size=10))
    def send_hostile(batch: list[tuple[str, str, dict[str, str]]]) -> None:
        for _, body, attrs in batch:  # one by one: a huge client id fills a message on its own
            queues.sqs.send_message(
                QueueUrl=queues.request_url,
                MessageBody=body,
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()},
            )
        sent.update(kind for kind, _, _ in batch)

    answered: list[str] = []
    async with (
        running(app, server_side),
        open_client(victim, client_id=VICTIM, timeout=30) as client,
        anyio.create_task_group() as tg,
    ):
        fuzzing = anyio.Event()

        async def fuzz() -> None:
            await anyio.to_thread.run_sync(send_hostile)
            fuzzing.set()

        tg.start_soon(fuzz)
        while not fuzzing.is_set():  # the victim's own calls, in between the hostile messages
            answered.append((await client.call_tool("echo", {"text": f"victim-{len(answered)}"})).content[0].text)
        await wait_until(lambda: queues.counts(queues.request_url) == (0, 0), within=100, interval=0.5)
        answered.append((await client.call_tool("echo", {"text": "victim-after"})).content[0].text)
    print(f"\nhostile attributes ({family}): {dict(sent)}; victim calls answered {len(answered)}")
    assert sum(sent.values()) == 150
    assert answered == [f"victim-{i}" for i in range(len(answered) - 1)] + ["victim-after"]
    for bucket, key in scene.objects:  # nobody else's object was read out or deleted
        assert scene.s3.get_object(Bucket=bucket, Key=key)["Body"].read() == scene.secret.encode()
    assert scene.everything_received(scene.victim_queue_url) == []
    to_attacker = scene.everything_received(scene.attacker_url)
    assert not [body for body in to_attacker if re.search(r'"victim-(\d+|after)"', body) or scene.secret in body]


@pytest.mark.timeout(120)
async def test_sigterm_under_load_finishes_running_calls_and_leaves_the_rest(queues: Queues, tmp_path: Path) -> None:
    servers = ServerProcesses(queues, tmp_path / "executions.log", "--max-in-flight", "4", "--grace-period", "30")
    try:
        first = servers.start()
        results: dict[int, int] = {}
        async with open_client(client_transport(queues), timeout=100) as client:

            async def call(n: int) -> None:
                results[n] = int((await client.call_tool("record", {"n": n, "seconds": 1.0})).content[0].text)

            async with anyio.create_task_group() as tg:
                for n in range(20):
                    tg.start_soon(call, n)
                await wait_until(lambda: servers.executions(), within=30)
                first.send_signal(signal.SIGTERM)
                assert await anyio.to_thread.run_sync(lambda: first.wait(timeout=40)) == 0
                started_by_first = set(servers.executions("start"))
                finished_by_first = set(servers.executions("done"))
                servers.start()
        executions = servers.executions()
    finally:
        servers.stop_all()
    assert results == {n: n for n in range(20)}
    assert started_by_first == finished_by_first  # what the first server started, it finished before exiting
    assert len(started_by_first) < 20  # and it left the calls it had not started for the next one
    assert all(count == 1 for count in executions.values())
    print(
        f"\nSIGTERM under load: first server finished {len(finished_by_first)}, second ran {20 - len(started_by_first)}"
    )
