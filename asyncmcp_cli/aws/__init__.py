"""AWS plumbing shared by every AWS transport: clients, off-loop calls, error mapping.

boto3 is synchronous. Every call here runs in a worker thread so the event
loop never blocks, and every botocore error is mapped to the `AsyncMCPError`
tree at this edge.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import boto3
import botocore.config
import botocore.exceptions

from asyncmcp_cli.aws import long_polls
from asyncmcp_cli.errors import (
    ConfigurationError,
    CredentialsError,
    DestinationUnreachableError,
    EndpointFailingError,
    EndpointUnreachableError,
    PayloadTooLargeError,
    QueueNotFoundError,
    TransportError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_REGION = "us-east-1"
LOCAL_CREDENTIALS = ("test", "test")
"""Any key pair is accepted by moto and LocalStack; used only for loopback endpoints."""

_QUEUE_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"}
_AUTH_FAILED = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidSecurity",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "AuthorizationError", "KMS.AccessDeniedException"}
"""Valid credentials, but not allowed to touch this resource (SNS says AuthorizationError)."""
_TOPIC_MISSING = {"NotFound", "NotFoundException"}
_TOO_LARGE = {"InvalidParameterValue.TooLong", "MessageTooLong", "AWS.SimpleQueueService.BatchRequestTooLong"}

# Long polls hold a thread for up to 20 s each; size the pool so that pollers
# never starve the short calls (sends, deletes) that free them.
_THREADS = 64
_limiter: anyio.CapacityLimiter | None = None


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom to talk to AWS. `None` means boto3's own default chain."""

    endpoint_url: str | None = None
    region: str | None = None

    @property
    def resolved_region(self) -> str:
        return self.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

    @property
    def resolved_endpoint(self) -> str | None:
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None

    @property
    def is_local(self) -> bool:
        return is_loopback_url(self.resolved_endpoint)


def check_endpoint_url(url: str) -> str:
    """`url` if it can be an AWS endpoint (``http(s)://host[:port][/path]``), else a `ConfigurationError`.

    botocore would refuse it later with a bare ValueError (or, without a
    scheme, take the host for a path); saying so up front names the mistake.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ConfigurationError(f"endpoint URL {url!r} is not valid: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"endpoint URL {url!r} is not valid: expected http://HOST:PORT or https://HOST")
    return url


def is_loopback_url(url: str | None) -> bool:
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def session() -> boto3.session.Session:
    """The process's boto3 session, one per set of ``AWS_*`` environment variables.

    A session loads botocore's data (the endpoints file, each service's model
    and rules) the first time a client needs it and keeps it: every client made
    from the same session reuses it, where a session per client parses it all
    again (about a tenth of a second of CPU per client). Its credentials are
    looked up once too. The ``AWS_*`` variables are part of the key because a
    session reads them when made: a process that changes them gets a new one.
    """
    return _session_for(frozenset((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


@functools.lru_cache(maxsize=4)
def _session_for(environment: frozenset[tuple[str, str]]) -> boto3.session.Session:
    return boto3.session.Session()


_making_clients = threading.Lock()
"""A botocore session is not thread-safe, and clients are made in worker threads (`call`)."""


def partition_for(region: str) -> str:
    """The AWS partition of `region` (``aws``, ``aws-cn``, ...), for building ARNs."""
    with _making_clients:
        return session().get_partition_for_region(region)


@functools.lru_cache(maxsize=32)
def client(service: str, settings: AwsSettings, *, probe_timeout: float | None = None) -> Any:
    """A boto3 client (thread-safe, cached per service and settings), made from the shared `session`.

    With `probe_timeout`, a client for `check_reachable`: one retry, and no
    call waits longer than that many seconds for the endpoint.

    Credentials are looked up here, once per session, rather than on every call:
    with none to find, the chain may wait on the instance metadata service each
    time, and the caller would learn only after several of those waits.
    """
    if settings.resolved_endpoint:
        check_endpoint_url(settings.resolved_endpoint)
    with _making_clients:
        shared = session()
        credentials: dict[str, str] = {}
        if shared.get_credentials() is None:
            if not settings.is_local:
                raise map_error(botocore.exceptions.NoCredentialsError())
            credentials = {"aws_access_key_id": LOCAL_CREDENTIALS[0], "aws_secret_access_key": LOCAL_CREDENTIALS[1]}
        return shared.client(
            service,
            region_name=settings.resolved_region,
            endpoint_url=settings.resolved_endpoint,
            config=_config() if probe_timeout is None else _probe_config(probe_timeout),
            **credentials,
        )


def _config(**overrides: Any) -> botocore.config.Config:
    settings: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": 3},
        "max_pool_connections": _THREADS,
        "connect_timeout": 5,
        "read_timeout": 30,  # above the 20 s SQS long poll
    }
    return botocore.config.Config(**(settings | overrides))


def _probe_config(timeout: float) -> botocore.config.Config:
    return _config(
        retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=min(timeout, 5), read_timeout=timeout
    )


async def check_reachable(settings: AwsSettings, *, within: float) -> None:
    """Fail within `within` seconds unless the endpoint answers one cheap SQS call (ListQueues, one result).

    For one-shot commands, before their first real call: an endpoint that is down
    (refused, silent, or answering HTTP 5xx) or credentials that are missing or
    refused end the command at once instead of being retried as an outage.
    Any other answer, a permission refusal included, shows the endpoint is there.
    """
    where = settings.resolved_endpoint or f"AWS ({settings.resolved_region})"
    probe = await call(client, service="sqs", settings=settings, probe_timeout=within)
    try:
        with anyio.fail_after(within):
            await call(probe.list_queues, MaxResults=1, abandon_on_cancel=True)
    except TimeoutError:
        raise EndpointUnreachableError(f"no answer from the AWS endpoint {where} within {within:g} s") from None
    except (CredentialsError, EndpointUnreachableError):
        raise
    except TransportError:
        return  # it answered (a permission refusal included): the command's own calls will say what is wrong


async def call(
    fn: Callable[..., T],
    /,
    *,
    abandon_on_cancel: bool = False,
    on_abandoned: Callable[[T], None] | None = None,
    **kwargs: Any,
) -> T:
    """Run one boto3 operation off the event loop, mapping its errors.

    `abandon_on_cancel` is for long polls: a cancelled caller returns at once
    and the poll finishes on a daemon thread (see `long_polls`), so neither
    the caller nor the process exit waits up to 20 s for it. If that poll
    still returns a result, `on_abandoned(result)` runs there (e.g. to give
    messages back).
    """
    job = functools.partial(_mapped, fn, **kwargs)
    if abandon_on_cancel:
        return await long_polls.run_abandonable(job, on_abandoned)
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(_THREADS)
    return await anyio.to_thread.run_sync(job, limiter=_limiter)


def _mapped(fn: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fn(**kwargs)
    except botocore.exceptions.BotoCoreError as exc:
        raise map_error(exc) from exc
    except botocore.exceptions.ClientError as exc:
        raise map_error(exc) from exc


def error_code(exc: BaseException) -> str | None:
    """The AWS error code behind a mapped error (or of a raw ClientError), for callers that branch on it."""
    cause = exc if isinstance(exc, botocore.exceptions.ClientError) else exc.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        return str(cause.response.get("Error", {}).get("Code", "")) or None
    return None


def map_error(exc: Exception) -> TransportError:
    """Translate a botocore error into our tree, keeping the service's words."""
    if isinstance(exc, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
        return CredentialsError(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for AWS; "
            "for a local endpoint run `asyncmcp local` and paste its exports, or set AWS_ENDPOINT_URL"
        )
    if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError)):
        return EndpointUnreachableError(f"cannot reach AWS endpoint: {exc}")
    if isinstance(exc, (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError)):
        return EndpointUnreachableError(f"AWS endpoint timed out: {exc}")
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        text = str(error.get("Message", "")) or code
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status >= 500:
            return EndpointFailingError(f"AWS endpoint answered HTTP {status} ({code}): {text}")
        if code in _QUEUE_MISSING:
            return QueueNotFoundError(f"queue does not exist: {text}")
        if code in _TOPIC_MISSING:
            return DestinationUnreachableError(f"does not exist ({code}): {text}")
        if code in _DENIED:
            return DestinationUnreachableError(f"AWS denied access ({code}): {text}")
        if code in _AUTH_FAILED:
            return CredentialsError(f"AWS refused the credentials ({code}): {text}")
        if code in _TOO_LARGE:
            return PayloadTooLargeError(f"message too large ({code}): {text}")
        return TransportError(f"AWS error {code}: {text}")
    return TransportError(f"AWS error: {exc}")
