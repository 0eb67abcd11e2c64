"""Targets: endpoints by name, and one clear line when nothing answers or there are no credentials."""

from __future__ import annotations

import socket

import pytest

from asyncmcp_cli import aws
from asyncmcp_cli.aws.local_aws import LocalEndpoint
from asyncmcp_cli.errors import CredentialsError, EndpointUnreachableError
from asyncmcp_cli.provision import targets


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_endpoints_by_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    assert targets.resolve("local").endpoint == "http://127.0.0.1:4750"
    assert targets.resolve("localstack").endpoint == "http://localhost:4566"
    monkeypatch.setenv("LOCALSTACK_HOST", "ls.example:4567")
    assert targets.resolve("localstack").endpoint == "http://ls.example:4567"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9999")
    assert targets.resolve("localstack").endpoint == "http://127.0.0.1:9999"
    assert targets.resolve("local", endpoint_url="http://127.0.0.1:1").endpoint == "http://127.0.0.1:1"


def test_a_live_endpoint_gives_its_account(moto: LocalEndpoint) -> None:
    assert targets.check(targets.resolve("local", endpoint_url=moto.url)) == "123456789012"


def test_no_local_endpoint_says_how_to_start_one() -> None:
    target = targets.resolve("local", endpoint_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(EndpointUnreachableError, match="asyncmcp local"):
        targets.check(target)


def test_no_localstack_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", f"127.0.0.1:{closed_port()}")
    with pytest.raises(EndpointUnreachableError, match=r"Docker.*auth token.*asyncmcp provision local"):
        targets.check(targets.resolve("localstack"))


def test_aws_without_credentials_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws.client.cache_clear()  # a client cached earlier may hold credentials found then
    try:
        with pytest.raises(CredentialsError, match="no AWS credentials found"):
            targets.check(targets.resolve("aws", region="us-east-1"))
    finally:
        aws.client.cache_clear()
