"""Transport options resolve as: explicit flag > environment variable > profile > transport default."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from asyncmcp_cli import profiles
from asyncmcp_cli.cli._common import TransportOptions, with_transport_options

app = typer.Typer()


@app.command()
@with_transport_options
def show(*, options: TransportOptions) -> None:
    transport = options.resolve(allow_reply=None)  # an unset command option must not hide the profile's
    typer.echo(json.dumps({k: getattr(transport.options, k) for k in ("request_queue", "reply_queue", "allow_reply")}))


@pytest.fixture(autouse=True)
def profile(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASYNCMCP_REQUEST_QUEUE", "ASYNCMCP_REPLY_QUEUE", "AWS_ENDPOINT_URL", "ASYNCMCP_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    for name in ("dev", "other"):
        profiles.save(
            profiles.Profile(
                name=name,
                target="local",
                endpoint_url="http://127.0.0.1:4750",
                transports={
                    "sqs": {
                        "request_queue": f"{name}-requests",
                        "reply_queue": f"{name}-replies",
                        "allow_reply": f"{name}-*",
                    }
                },
            )
        )


def run(*args: str, **env: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["--transport", "sqs", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_default_profile_fills_what_is_unset() -> None:
    assert run() == {"request_queue": "other-requests", "reply_queue": "other-replies", "allow_reply": ["other-*"]}


def test_profile_flag_and_environment_select_a_profile() -> None:
    assert run("--profile", "dev")["request_queue"] == "dev-requests"
    assert run(ASYNCMCP_PROFILE="dev")["request_queue"] == "dev-requests"


def test_environment_beats_the_profile_and_a_flag_beats_both() -> None:
    assert run(ASYNCMCP_REQUEST_QUEUE="env-requests")["request_queue"] == "env-requests"
    assert (
        run("--request-queue", "flag-requests", ASYNCMCP_REQUEST_QUEUE="env-requests")["request_queue"]
        == "flag-requests"
    )
    assert run("-o", "reply_queue=option-replies")["reply_queue"] == "option-replies"


def test_without_profiles_the_transport_defaults_apply() -> None:
    for name in profiles.names():
        profiles.delete(name)
    assert run() == {
        "request_queue": "asyncmcp-requests",
        "reply_queue": "asyncmcp-replies",
        "allow_reply": ["asyncmcp-*"],
    }


def test_a_missing_profile_is_a_configuration_error() -> None:
    from asyncmcp_cli.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no asyncmcp profile named 'nope'"):
        TransportOptions("sqs", None, None, None, None, profile="nope").settings()
