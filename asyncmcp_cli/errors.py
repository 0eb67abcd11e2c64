"""The one exception tree of asyncmcp.

Foreign errors (botocore, boto3, httpx) are translated where they enter the
library and re-raised from the original, so callers only ever catch these::

    AsyncMCPError
    ├── ConfigurationError          bad option, URL or app reference
    │   ├── UnknownTransportError   no transport by that name ("did you mean ...")
    │   └── AppLoadError            "module:attr" could not be imported
    ├── TransportError              a channel failed while moving messages
    │   ├── EndpointUnreachableError    nothing answers at the endpoint (retried as transient)
    │   │   └── EndpointFailingError    it answers, with a server error (HTTP 5xx): transient too
    │   ├── CredentialsError            no or rejected credentials
    │   ├── DestinationUnreachableError the address does not exist or refuses us: retrying will not help
    │   │   └── QueueNotFoundError      the named queue does not exist
    │   └── PayloadTooLargeError        a message exceeds the channel's limit
    ├── ReplyAddressRefusedError    a client asked for a reply address outside the allow-list
    └── UsageError                  a request the user typed cannot be sent (unknown tool, bad arguments)
"""

from __future__ import annotations


class AsyncMCPError(Exception):
    """Base class of every error raised by asyncmcp."""


class ConfigurationError(AsyncMCPError):
    """An option, URL or reference given by the user cannot be used."""


class UnknownTransportError(ConfigurationError):
    """No transport is registered under the requested name."""

    def __init__(self, name: str, known: list[str], suggestion: str | None) -> None:
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"unknown transport {name!r}{hint} (known: {', '.join(sorted(known))})")
        self.name = name
        self.suggestion = suggestion


class AppLoadError(ConfigurationError):
    """An APP reference ("module:attr") could not be loaded."""


class TransportError(AsyncMCPError):
    """A channel failed while moving messages."""


class EndpointUnreachableError(TransportError):
    """Nothing answers at the configured endpoint."""


class EndpointFailingError(EndpointUnreachableError):
    """The endpoint answers, but with a server error (HTTP 5xx).

    A subclass of `EndpointUnreachableError` so that every retry that rides out
    an outage treats "connection refused" and "500" alike: both are transient.
    """


class CredentialsError(TransportError):
    """No credentials were found, or the service rejected them."""


class DestinationUnreachableError(TransportError):
    """The address a message goes to does not exist, or this sender may not write to it.

    Unlike throttling or a lost connection, retrying will not help: the caller
    settles the message instead of waiting out its retry window.
    """


class QueueNotFoundError(DestinationUnreachableError):
    """The named queue does not exist at the endpoint."""


class PayloadTooLargeError(TransportError):
    """A message is larger than the channel accepts."""


class ReplyAddressRefusedError(AsyncMCPError):
    """A client declared a reply address that the server's allow-list does not admit."""


class UsageError(AsyncMCPError):
    """What the user asked for cannot be sent as typed: an unknown name, arguments the schema refuses."""
