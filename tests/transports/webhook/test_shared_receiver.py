"""Clients inside `clients()` share one receiver; each webhook reaches the client it names, and only that one."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from asyncmcp_cli.protocol import codec
from asyncmcp_cli.transports.webhook.transport import WebhookTransport
from tests.transports.webhook_support import SECRET, post_signed

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class Inbox:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def accept(self, body: bytes, headers: Mapping[str, str]) -> int:
        self.bodies.append(body)
        return 202


async def test_webhooks_reach_the_client_they_name() -> None:
    transport = WebhookTransport(webhook_secret=(SECRET,))
    alice, bob = Inbox(), Inbox()
    async with transport.clients():
        async with transport.receiver("alice", alice.accept) as url_a, transport.receiver("bob", bob.accept) as url_b:
            assert url_a == url_b and transport.listening_receivers == 1
            to_bob = await post_signed(url_a, '{"to":"bob"}', headers={codec.CLIENT_ID: "bob"})
            to_alice = await post_signed(url_a, '{"to":"alice"}', headers={codec.CLIENT_ID: "alice"})
            to_nobody = await post_signed(url_a, '{"to":"carol"}', headers={codec.CLIENT_ID: "carol"})
            unnamed = await post_signed(url_a, '{"to":"?"}')
        async with transport.receiver("alice", alice.accept) as url:
            unnamed_alone = await post_signed(url, '{"to":"the only one"}')
        gone = await post_signed(url, '{"to":"alice"}', headers={codec.CLIENT_ID: "alice"})
    assert (to_bob.status_code, to_alice.status_code) == (202, 202)
    assert (to_nobody.status_code, unnamed.status_code, gone.status_code) == (410, 410, 410)
    assert unnamed_alone.status_code == 202
    assert bob.bodies == [b'{"to":"bob"}']
    assert alice.bodies == [b'{"to":"alice"}', b'{"to":"the only one"}']
    assert transport.listening_receivers == 0


async def test_without_the_scope_each_client_listens_alone() -> None:
    transport = WebhookTransport(webhook_secret=(SECRET,))
    async with transport.receiver("alice", Inbox().accept) as url_a, transport.receiver("bob", Inbox().accept) as url_b:
        assert url_a != url_b and transport.listening_receivers == 2
