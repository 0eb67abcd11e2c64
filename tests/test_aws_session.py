"""boto3 clients share one session per process, so botocore's data is loaded once, not once per client."""

from __future__ import annotations

import pytest

from asyncmcp_cli import aws


@pytest.mark.timeout(60)
def test_clients_share_one_session_and_its_loaded_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "shared-session-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    here = aws.AwsSettings(endpoint_url="http://127.0.0.1:1", region="us-east-1")
    elsewhere = aws.AwsSettings(endpoint_url="http://127.0.0.1:2", region="eu-west-1")
    sqs = aws.client("sqs", here)
    probe = aws.client("sqs", here, probe_timeout=1.0)
    sns = aws.client("sns", elsewhere)
    assert sqs is not probe
    # one loader (the parsed endpoints file, models and rules) behind all of them
    assert sqs._loader is probe._loader is sns._loader

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "another-key")  # a session reads AWS_* once: a change gets a new one
    other = aws.client("sqs", aws.AwsSettings(endpoint_url="http://127.0.0.1:3", region="us-east-1"))
    assert other._loader is not sqs._loader
    assert other._request_signer._credentials.access_key == "another-key"
