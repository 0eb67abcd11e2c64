"""The memory transport against the shared contract."""

from __future__ import annotations

import uuid

import anyio
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


@pytest.mark.anyio
async def test_a_message_arriving_after_the_client_closed_its_end_is_dropped_not_raised() -> None:
    # A server may still log after its last answer; the session has closed its read stream by then.
    transport = memory.MemoryTransport(name=f"test-{uuid.uuid4().hex}")
    late = '{"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "late"}}'
    with anyio.fail_after(10):
        async with transport.connect(client_id="gone") as (read_stream, _write_stream):
            await read_stream.aclose()
            await memory.inject_reply(transport.name, "gone", late)
            await anyio.wait_all_tasks_blocked()  # the transport has taken the message and tried to hand it over
