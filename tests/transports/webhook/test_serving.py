"""uvicorn embedded in a task group: addresses, ports in use, restarting on the same port."""

from __future__ import annotations

import httpx2
import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports.webhook.serving import Bound, parse_host_port, serve_asgi
from tests.transports.webhook_support import ScriptedReceiver

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8001", ("127.0.0.1", 8001)),
        (":8001", ("127.0.0.1", 8001)),
        ("localhost", ("localhost", 0)),
        ("[::1]:9000", ("::1", 9000)),
        ("::1", ("::1", 0)),
    ],
)
def test_parse_host_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:http", "127.0.0.1:70000"])
def test_bad_host_port(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_host_port(text)


def test_bound_urls() -> None:
    assert Bound("127.0.0.1", 80).url("/x") == "http://127.0.0.1:80/x"
    assert Bound("::1", 80).url("/x") == "http://[::1]:80/x"


async def test_a_port_in_use_is_a_clear_error() -> None:
    async with ScriptedReceiver().running() as bound:
        with pytest.raises(ConfigurationError, match=f"cannot listen on 127.0.0.1:{bound.port}"):
            async with serve_asgi(ScriptedReceiver().app(), "127.0.0.1", bound.port):
                pass


async def test_a_server_can_stop_and_start_again_on_the_same_port() -> None:
    receiver = ScriptedReceiver()
    async with receiver.running() as first:
        port = first.port
        async with httpx2.AsyncClient() as client:
            assert (await client.post(first.url("/webhook"), content=b"1")).status_code == 200
    async with httpx2.AsyncClient() as client:
        with pytest.raises(httpx2.ConnectError):
            await client.post(first.url("/webhook"), content=b"2")
        async with receiver.running(port) as second:
            assert (await client.post(second.url("/webhook"), content=b"3")).status_code == 200
    assert [a.body for a in receiver.arrivals] == [b"1", b"3"]
