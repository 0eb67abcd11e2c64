"""`provision` and `tail` commands in-process (Typer's runner): output, exit codes, bad input.

The end-to-end flows run as real subprocesses in test_provision_tail.py; these check the
commands' own behaviour without paying for a process start each time.
"""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from typer.testing import CliRunner, Result

from asyncmcp_cli import aws
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.cli import app
from tests.conftest import wait_until_sync


@pytest.fixture
def prefix() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


@pytest.fixture
def env(moto: LocalEndpoint, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("AWS_PROFILE", "LOCALSTACK_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in moto.exports().items():
        monkeypatch.setenv(name, value)
    return moto.exports()


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def queue_names(moto: LocalEndpoint, prefix: str) -> list[str]:
    return aws.client("sqs", moto.settings).list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])


def test_dry_run_creates_nothing(moto: LocalEndpoint, env: dict[str, str], prefix: str) -> None:
    planned = invoke("provision", "aws", "--prefix", prefix, "--dry-run", "--fifo", "--json")
    assert planned.exit_code == 0, planned.output
    actions = json.loads(planned.stdout)["actions"]
    assert {r["name"] for r in actions} >= {f"{prefix}-requests.fifo", f"{prefix}-requests-dlq.fifo"}
    assert {r["action"] for r in actions} == {"plan"}
    table = invoke("provision", "local", "--prefix", prefix, "--dry-run")
    assert table.exit_code == 0 and "dry run" in table.stdout and "nothing was changed" in table.stderr
    assert queue_names(moto, prefix) == []


def test_provision_prints_a_table_the_next_steps_and_exports(env: dict[str, str], prefix: str) -> None:
    done = invoke("provision", "local", "--prefix", prefix, "--transport", "sqs", "--profile", "dev")
    assert done.exit_code == 0, done.output
    assert "profile 'dev' written" in done.stdout and "asyncmcp serve --transport sqs" in done.stdout
    again = invoke("provision", "local", "--prefix", prefix, "--transport", "sqs", "--profile", "dev", "--env")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "export ASYNCMCP_PROFILE=dev",
        f"export AWS_ENDPOINT_URL={env['AWS_ENDPOINT_URL']}",
        "export AWS_REGION=us-east-1",
        "export AWS_DEFAULT_REGION=us-east-1",
    ]
    assert "exists" in again.stderr  # the table, on stderr so `eval "$(...)"` works
    down = invoke("provision", "local", "--teardown", "--profile", "dev")
    assert down.exit_code == 0 and "profile removed" in down.stdout
    assert f"profile 'dev' (prefix '{prefix}'): deleted 3, kept 0, already gone 0" in down.stdout


def test_bad_choices_are_usage_or_configuration_errors(env: dict[str, str]) -> None:
    assert invoke("provision", "moon").exit_code == 2
    bad = invoke("provision", "local", "--prefix", "Not_Valid", "--dry-run")
    assert bad.exit_code == 3 and bad.stderr.startswith("error: prefix")
    wrong = invoke("provision", "local", "--transport", "kafka", "--dry-run")
    assert wrong.exit_code == 3 and "kafka" in wrong.stderr


@pytest.mark.parametrize(
    ("target", "variables", "words"),
    [
        ("local", {}, ["nothing answers", "asyncmcp local"]),
        ("localstack", {"LOCALSTACK_HOST": "127.0.0.1:{port}"}, ["LocalStack", "Docker", "provision local"]),
        ("aws", {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}, ["credentials"]),
    ],
)
def test_unreachable_targets_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, target: str, variables: dict[str, str], words: list[str]
) -> None:
    port = closed_port()
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(port=port))
    aws.client.cache_clear()  # a client cached earlier may hold credentials found then
    args = ["--endpoint-url", f"http://127.0.0.1:{port}"] if target == "local" else []
    try:
        done = invoke("provision", target, *args, "--region", "us-east-1")
    finally:
        aws.client.cache_clear()
    assert done.exit_code == 4, done.output
    assert done.stderr.startswith("error:") and done.stderr.count("\n") == 1
    for word in words:
        assert word in done.stderr


def test_tail_bad_input_is_a_clear_line(
    moto: LocalEndpoint, env: dict[str, str], prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = invoke("tail", f"{prefix}-no-such-queue")
    assert missing.exit_code == 4 and "does not exist" in missing.stderr
    no_profile = invoke("tail", "dlq")
    assert no_profile.exit_code == 3 and "asyncmcp provision" in no_profile.stderr

    url = aws.client("sqs", moto.settings).create_queue(QueueName=f"{prefix}-odd")["QueueUrl"]
    aws.client("sqs", moto.settings).send_message(QueueUrl=url, MessageBody="plain words, not JSON")
    # The consoles took their width when the CLI was first imported in this process, whatever COLUMNS was then.
    from asyncmcp_cli.cli._common import console, err_console

    monkeypatch.setattr(console, "width", 160)
    monkeypatch.setattr(err_console, "width", 160)
    shown = invoke("tail", url)
    assert shown.exit_code == 0, shown.output
    assert "invalid" in shown.stdout and "(not JSON) plain words" in shown.stdout
    assert "raises the message's receive count" in shown.stderr
    as_json = json.loads(invoke("tail", url, "--json").stdout)
    assert (as_json["kind"], as_json["problem"], as_json["body"]) == ("invalid", "not JSON", "plain words, not JSON")
    assert invoke("tail", url, "--raw").stdout == "plain words, not JSON\n"


def test_tail_dlq_then_redrive(moto: LocalEndpoint, env: dict[str, str], prefix: str) -> None:
    done = invoke("provision", "local", "--prefix", prefix, "--transport", "sqs", "--max-receive-count", "1")
    assert done.exit_code == 0, done.output
    sqs = aws.client("sqs", moto.settings)
    requests_url = sqs.get_queue_url(QueueName=f"{prefix}-requests")["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=f"{prefix}-requests-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=requests_url, MessageBody='{"jsonrpc": "2.0", "id": 1, "method": "tools/call"}')

    def dead() -> bool:
        sqs.receive_message(QueueUrl=requests_url, VisibilityTimeout=0)
        attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
        return attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"

    wait_until_sync(dead)
    shown = invoke("tail", "dlq", "--json")
    assert shown.exit_code == 0, shown.output
    (letter,) = [json.loads(line) for line in shown.stdout.splitlines()]
    assert (letter["queue"], letter["method"]) == (f"{prefix}-requests-dlq", "tools/call")
    assert letter["receive_count"] >= 2

    moved = invoke("tail", "dlq", "--redrive")
    assert moved.exit_code == 0, moved.output
    assert f"moved 1 message from {prefix}-requests-dlq back to {prefix}-requests" in moved.stdout
    back = invoke("tail", "requests", "--json", "--consume")
    assert [json.loads(line)["method"] for line in back.stdout.splitlines()] == ["tools/call"]
    assert invoke("provision", "local", "--teardown").exit_code == 0
    assert queue_names(moto, prefix) == []
