"""The memory transport against the shared contract."""

from __future__ import annotations

import uuid

import pytest

from asyncmcp_cli.transports import memory
from asyncmcp_cli.transports.base import Transport
from tests.transports.contract import TransportContract


class TestMemoryTransport(TransportContract):
    @pytest.fixture
    def transport(self) -> memory.MemoryTransport:
        return memory.MemoryTransport(name=f"test-{uuid.uuid4().hex}")

    async def inject_reply(self, transport: Transport, client_id: str, body: str) -> None:
        assert isinstance(transport, memory.MemoryTransport)
        await memory.inject_reply(transport.name, client_id, body)
