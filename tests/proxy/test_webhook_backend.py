"""The proxy in front of a webhook server: one receiver serves every front session, even on a fixed port."""

from __future__ import annotations

import socket
from pathlib import Path

import anyio
import pytest
from mcp import Client

from asyncmcp_cli.apps import as_lowlevel
from asyncmcp_cli.demo import demo
from asyncmcp_cli.proxy import HttpFrontOptions, http_front
from asyncmcp_cli.transports.http_webhook.transport import HttpWebhookTransport
from asyncmcp_cli.transports.webhook.transport import WebhookEndpoints, WebhookTransport
from tests.proxy.support import backend
from tests.transports.webhook_support import SECRET, loopback_options, reserve_port

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

SEQUENTIAL = 10
CONCURRENT = 10


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.parametrize("kind", [WebhookTransport, HttpWebhookTransport])
async def test_twenty_sessions_share_one_receiver_on_a_fixed_port(kind: type[WebhookEndpoints], tmp_path: Path) -> None:
    server_transport = kind(**loopback_options(tmp_path))  # type: ignore[arg-type]
    port = reserve_port()
    receiver_urls: set[str] = set()
    while_all_open: list[int] = []
    async with backend(as_lowlevel(demo), server_transport):
        proxy_transport = kind(
            server_url=server_transport.server_url, webhook_secret=(SECRET,), webhook_listen=f"127.0.0.1:{port}"
        )
        front = HttpFrontOptions(listen="http://127.0.0.1:0/mcp")
        async with http_front(proxy_transport, options=front, call_timeout=20) as url:

            async def session(n: int, everyone_in: anyio.Event | None = None) -> None:
                async with Client(url, mode="legacy") as client:
                    result = await client.call_tool("add", {"a": n, "b": 1000})
                    assert result.content[0].text == f"{n + 1000}.0"
                    receiver_urls.update(proxy_transport.receivers.values())
                    if everyone_in is not None:
                        opened.append(n)
                        if len(opened) == CONCURRENT:
                            while_all_open.extend([len(proxy_transport.receivers), proxy_transport.listening_receivers])
                            everyone_in.set()
                        await everyone_in.wait()

            for n in range(SEQUENTIAL):
                await session(n)
            opened: list[int] = []
            everyone_in = anyio.Event()
            async with anyio.create_task_group() as tg:
                for n in range(SEQUENTIAL, SEQUENTIAL + CONCURRENT):
                    tg.start_soon(session, n, everyone_in)
            assert proxy_transport.listening_receivers == 1
        assert proxy_transport.listening_receivers == 0
        assert port_is_free(port)  # the proxy let its receiver go when it stopped
    assert receiver_urls == {f"http://127.0.0.1:{port}/webhook"}
    assert while_all_open[0] >= CONCURRENT and while_all_open[1] == 1  # ten backend clients at once, one listener
