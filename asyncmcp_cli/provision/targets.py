"""Where `provision` works: the embedded endpoint, LocalStack, or real AWS.

- ``local``: a running ``asyncmcp local`` (moto) endpoint, by default
  http://127.0.0.1:4750, or ``AWS_ENDPOINT_URL``. moto keeps its state in that
  process, so provisioning targets it rather than starting a throwaway one.
- ``localstack``: http://localhost:4566, or ``AWS_ENDPOINT_URL``, or
  ``LOCALSTACK_HOST``.
- ``aws``: the standard credential chain and region (``AWS_ENDPOINT_URL``
  still applies if set, as it does for every AWS SDK).

`check` makes the first call (STS ``GetCallerIdentity``) and turns "nothing
answers" and "no credentials" into one line that says what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from asyncmcp_cli import aws
from asyncmcp_cli.aws import local_aws
from asyncmcp_cli.errors import ConfigurationError, CredentialsError, EndpointUnreachableError

TARGETS = ("local", "localstack", "aws")
LOCAL_ENDPOINT = f"http://127.0.0.1:{local_aws.DEFAULT_PORT}"
LOCALSTACK_ENDPOINT = "http://localhost:4566"

_HINTS = {
    "local": (
        "nothing answers at {url}. Start the embedded AWS endpoint in another terminal with "
        "`asyncmcp local` (or `asyncmcp local --provision`, which also provisions), then run this again"
    ),
    "localstack": (
        "nothing answers at {url}. Start LocalStack there (it needs Docker and a LocalStack auth token: "
        "`docker run --rm -p 4566:4566 -e LOCALSTACK_AUTH_TOKEN=... localstack/localstack`), or point "
        "LOCALSTACK_HOST / AWS_ENDPOINT_URL at it. No Docker? `asyncmcp local` plus "
        "`asyncmcp provision local` need nothing but Python"
    ),
    "aws": "cannot reach AWS ({error}); check the network, AWS_REGION and any proxy settings",
}
_NO_CREDENTIALS = (
    "no AWS credentials found: configure them (`aws configure`, AWS_PROFILE, or "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or use `asyncmcp provision local` with no AWS account"
)


@dataclass(frozen=True)
class Target:
    name: str
    settings: aws.AwsSettings

    @property
    def endpoint(self) -> str | None:
        return self.settings.resolved_endpoint

    @property
    def region(self) -> str:
        return self.settings.resolved_region

    def where(self) -> str:
        return self.endpoint or f"AWS ({self.region})"

    def client(self, service: str) -> Any:
        return aws.client(service, self.settings)


def resolve(name: str, *, endpoint_url: str | None = None, region: str | None = None) -> Target:
    """The target called `name`, with an explicit endpoint and region winning over the defaults."""
    if name not in TARGETS:
        raise ConfigurationError(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}")
    env_endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    if name == "local":
        endpoint = endpoint_url or env_endpoint or LOCAL_ENDPOINT
    elif name == "localstack":
        endpoint = endpoint_url or env_endpoint or _localstack_endpoint()
    else:
        endpoint = endpoint_url
    return Target(name, aws.AwsSettings(endpoint_url=endpoint, region=region))


def check(target: Target) -> str:
    """Make sure the target answers and accepts our credentials; return the account id."""
    try:
        identity = target.client("sts").get_caller_identity()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        mapped = aws.map_error(exc)
        if isinstance(mapped, EndpointUnreachableError):
            url = target.endpoint or "AWS"
            raise EndpointUnreachableError(_HINTS[target.name].format(url=url, error=mapped)) from exc
        if isinstance(mapped, CredentialsError) and "no AWS credentials" in str(mapped):
            raise CredentialsError(_NO_CREDENTIALS) from exc
        raise mapped from exc
    return str(identity["Account"])


def _localstack_endpoint() -> str:
    host = os.environ.get("LOCALSTACK_HOST", "").strip()
    if not host:
        return LOCALSTACK_ENDPOINT
    if "://" in host:
        return host
    return f"http://{host}" if ":" in host else f"http://{host}:4566"
