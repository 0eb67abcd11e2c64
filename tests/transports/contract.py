"""The contract every transport honours. Each backend's test module subclasses it.

A subclass provides the `transport` fixture and `inject_reply(transport,
client_id, body)`, which puts a raw body where that client reads its replies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio
import pytest
from mcp.shared.message import SessionMessage

from asyncmcp_cli.client import open_client
from asyncmcp_cli.server import serve
from asyncmcp_cli.tasks.serving import enable_tasks
from asyncmcp_cli.transports.base import Transport
from tests.testapp import ControlledApp


class GatedApp(Protocol):
    """A test app whose tools may wait on `gate` (opened when the block ends, so nothing hangs)."""

    gate: anyio.Event

    @property
    def lowlevel(self) -> Any: ...


@asynccontextmanager
async def running(app: GatedApp, transport: Transport) -> AsyncIterator[None]:
    """Serve `app` over `transport` for the duration of the block."""
    shutdown, ready = anyio.Event(), anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(app.lowlevel, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set))
        await ready.wait()
        try:
            yield
        finally:
            app.gate.set()
            shutdown.set()


@pytest.mark.anyio
class TransportContract:
    async def inject_reply(self, transport: Transport, client_id: str, body: str) -> None:
        raise NotImplementedError

    @pytest.fixture
    def app(self) -> ControlledApp:
        return ControlledApp()

    @pytest.mark.parametrize("era", ["stateless", "handshake"])
    async def test_round_trip(self, transport: Transport, app: ControlledApp, era: str) -> None:
        async with running(app, transport), open_client(transport, era=era, timeout=20) as client:
            result = await client.call_tool("echo", {"text": "hello"})
        assert not result.is_error
        assert result.content[0].text == "hello"

    async def test_a_tool_runs_as_a_task(self, transport: Transport, app: ControlledApp) -> None:
        """Tasks work on every transport: created at once, polled until done; plain calls unchanged."""
        from tests.tasks.support import raw, runtime, wait_for_status

        tools = {"wait_for_gate": "optional", "echo": "optional"}
        enable_tasks(app.lowlevel, runtime(), tools=tools)  # type: ignore[arg-type]
        async with running(app, transport), open_client(transport, timeout=30) as client:
            created = await raw(client, "tools/call", {"name": "wait_for_gate", "arguments": {"tag": "t"}})
            assert created["resultType"] == "task"
            with anyio.fail_after(20):
                await app.started.wait()
            assert (await raw(client, "tasks/get", {"taskId": created["taskId"]}))["status"] == "working"
            app.gate.set()
            done = await wait_for_status(client, created["taskId"], "completed")
            assert done["result"]["content"][0]["text"] == "gate opened t"
            plain = await client.call_tool("echo", {"text": "plain"})  # no tasks capability: the ordinary call
        assert plain.content[0].text == "plain"

    async def test_many_concurrent_requests(self, transport: Transport, app: ControlledApp) -> None:
        answers: dict[int, str] = {}
        async with running(app, transport), open_client(transport, timeout=30) as client:

            async def call(n: int) -> None:
                result = await client.call_tool("echo", {"text": f"n{n}"})
                answers[n] = result.content[0].text

            async with anyio.create_task_group() as tg:
                for n in range(40):
                    tg.start_soon(call, n)
        assert answers == {n: f"n{n}" for n in range(40)}

    async def test_two_clients_with_the_same_ids_are_kept_apart(self, transport: Transport, app: ControlledApp) -> None:
        seen: dict[str, list[str]] = {"a": [], "b": []}
        async with running(app, transport):

            async def client_session(name: str) -> None:
                async with open_client(transport, client_id=f"client-{name}", timeout=20) as client:
                    for i in range(5):  # both sessions number their requests 1, 2, 3, ...
                        result = await client.call_tool("echo", {"text": f"{name}{i}"})
                        seen[name].append(result.content[0].text)

            async with anyio.create_task_group() as tg:
                tg.start_soon(client_session, "a")
                tg.start_soon(client_session, "b")
        assert seen == {"a": [f"a{i}" for i in range(5)], "b": [f"b{i}" for i in range(5)]}

    async def test_slow_call_does_not_delay_fast_call(self, transport: Transport, app: ControlledApp) -> None:
        async with running(app, transport), open_client(transport, timeout=20) as client:
            slow_done = anyio.Event()

            async def slow() -> None:
                await client.call_tool("wait_for_gate", {"tag": "slow"})
                slow_done.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(slow)
                await app.started.wait()
                fast = await client.call_tool("echo", {"text": "fast"})
                assert fast.content[0].text == "fast"
                assert not slow_done.is_set()  # the slow call is still running on the server
                app.gate.set()
            assert slow_done.is_set()

    async def test_bad_input_reaches_the_read_stream_as_an_exception(self, transport: Transport) -> None:
        async with transport.connect(client_id="bad-input-client") as (read_stream, _write_stream):
            await self.inject_reply(transport, "bad-input-client", "this is not json-rpc")
            with anyio.fail_after(10):
                item = await read_stream.receive()
        assert isinstance(item, Exception)

    async def test_clean_shutdown_closes_every_stream_end(self, transport: Transport, app: ControlledApp) -> None:
        async with running(app, transport):
            async with transport.connect() as (read_stream, write_stream):
                pass
            with pytest.raises((anyio.ClosedResourceError, anyio.EndOfStream)):
                await read_stream.receive()
            with pytest.raises(anyio.ClosedResourceError):
                await write_stream.send(SessionMessage(message=None))  # type: ignore[arg-type]

    async def test_server_shutdown_returns_and_closes_sessions(self, transport: Transport, app: ControlledApp) -> None:
        shutdown = anyio.Event()
        ready = anyio.Event()
        result: list[int] = []
        stopped = anyio.Event()
        async with anyio.create_task_group() as tg:

            async def run_server() -> None:
                result.append(
                    await serve(app.lowlevel, transport, shutdown=shutdown, grace_seconds=1, on_ready=ready.set)
                )
                stopped.set()

            tg.start_soon(run_server)
            await ready.wait()
            async with open_client(transport, timeout=20) as client:
                await client.call_tool("echo", {"text": "before shutdown"})
            shutdown.set()
            with anyio.fail_after(10):
                await stopped.wait()
        assert result == [0]
