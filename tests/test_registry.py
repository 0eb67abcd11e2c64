from __future__ import annotations

import pytest

from asyncmcp_cli.errors import ConfigurationError, UnknownTransportError
from asyncmcp_cli.transports import registry
from asyncmcp_cli.transports.memory import MemoryTransport
from asyncmcp_cli.transports.sqs import SqsTransport


def test_resolves_a_name_with_options() -> None:
    transport = registry.resolve("sqs", request_queue="q1", visibility_timeout="45", endpoint_url=None)
    assert isinstance(transport, SqsTransport)
    assert transport.options.request_queue == "q1"
    assert transport.options.visibility_timeout == 45
    assert transport.options.endpoint_url is None


def test_resolves_a_url_and_flags_override_its_query() -> None:
    transport = registry.resolve("sqs://my-requests?reply_queue=mine&max_in_flight=5", max_in_flight=7)
    assert isinstance(transport, SqsTransport)
    assert (transport.options.request_queue, transport.options.reply_queue) == ("my-requests", "mine")
    assert transport.options.max_in_flight == 7


def test_memory_url_names_the_network() -> None:
    transport = registry.resolve("memory://lab")
    assert isinstance(transport, MemoryTransport)
    assert transport.name == "lab"


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownTransportError, match="did you mean 'sqs'"):
        registry.resolve("sqss")


def test_unknown_option_is_named() -> None:
    with pytest.raises(ConfigurationError, match="bogus"):
        registry.resolve("sqs", bogus="1")


def test_option_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="visibility_timeout='soon'"):
        registry.resolve("sqs", visibility_timeout="soon")


def test_third_party_registration() -> None:
    registry.register("lab-memory", "asyncmcp_cli.transports.memory:MemoryTransport")
    assert isinstance(registry.resolve("lab-memory://x"), MemoryTransport)
    with pytest.raises(ConfigurationError, match="module:attr"):
        registry.register("broken", "no_colon_here")
    registry.register("missing", "asyncmcp_cli.nowhere:Nothing")
    with pytest.raises(ConfigurationError, match="cannot load transport"):
        registry.resolve("missing")
