"""Serving an existing stdio MCP server (a real subprocess) over a transport, in both protocol eras."""

from __future__ import annotations

import logging
import os
import signal
import sys

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.client import open_client
from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.upstream import CommandTarget, upstream_server
from asyncmcp_cli.upstream.server import upstream_params
from tests.upstream.support import served

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("era", ["stateless", "handshake"])
async def test_lists_and_calls_in_either_era(era: str) -> None:
    async with served() as (transport, server), open_client(transport, era=era, timeout=20) as client:
        tools = await client.list_tools()
        echoed = await client.call_tool("echo", {"text": "over the queue"})
    assert server.name == "test-upstream" and server.version == "1.2.3"
    assert {"echo", "slow", "pid", "ask"} <= {tool.name for tool in tools.tools}
    assert echoed.content[0].text == "over the queue"


async def test_a_handshake_client_sees_the_upstreams_identity_and_capabilities() -> None:
    async with served() as (transport, _), open_client(transport, era="handshake", timeout=20) as client:
        info, instructions, capabilities = client.server_info, client.instructions, client.server_capabilities
    assert info is not None and (info.name, info.version) == ("test-upstream", "1.2.3")
    assert instructions == "A test server run as a subprocess."
    assert capabilities.tools is not None


async def test_requests_with_the_same_ids_from_many_clients_never_collide_upstream() -> None:
    answers: dict[str, list[str]] = {}
    async with served() as (transport, _):

        async def client(name: str) -> None:
            async with open_client(transport, client_id=name, timeout=20) as session:
                answers[name] = []
                for i in range(4):  # every client numbers its requests from 1
                    result = await session.call_tool("echo", {"text": f"{name}-{i}"})
                    answers[name].append(result.content[0].text)

        async with anyio.create_task_group() as tg:
            for n in range(8):
                tg.start_soon(client, f"client{n}")
    assert answers == {f"client{n}": [f"client{n}-{i}" for i in range(4)] for n in range(8)}


@pytest.mark.parametrize("era", ["stateless", "handshake"])
async def test_progress_reaches_the_client_that_asked(era: str) -> None:
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with served() as (transport, _), open_client(transport, era=era, timeout=20) as client:
        result = await client.call_tool("slow", {"seconds": 0.5}, progress_callback=on_progress)
    assert result.content[0].text == "slept 0.5"
    assert seen == [1.0, 2.0]


async def test_a_log_message_during_a_call_reaches_a_handshake_client() -> None:
    logged: list[str] = []
    arrived = anyio.Event()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logged.append(str(params.data))
        arrived.set()

    async with (
        served() as (transport, _),
        open_client(transport, era="handshake", timeout=20, logging_callback=on_log) as client,
    ):
        result = await client.call_tool("shout", {"text": "hey"})
        with anyio.fail_after(10):
            await arrived.wait()  # the notification may trail the response by a moment
    assert result.content[0].text == "HEY"
    assert logged == ["shouting hey"]


async def test_an_elicitation_is_relayed_to_a_handshake_client_and_answered() -> None:
    async def answer(context: object, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"answer": f"yes to {params.message}"})

    async with (
        served() as (transport, _),
        open_client(transport, era="handshake", timeout=20, elicitation_callback=answer) as client,
    ):
        result = await client.call_tool("ask", {"question": "proceed?"})
    assert result.content[0].text == "accept:yes to proceed?"


async def test_an_elicitation_cannot_reach_a_stateless_client_and_the_call_says_why() -> None:
    async with served() as (transport, _), open_client(transport, era="stateless", timeout=20) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("ask", {"question": "proceed?"})
    assert "cannot receive elicitation/create in its protocol era" in refused.value.error.message


async def test_an_upstream_killed_mid_call_fails_the_call_restarts_and_serves_again() -> None:
    async with served() as (transport, server), open_client(transport, timeout=30) as client:
        first_pid = int((await client.call_tool("pid", {})).content[0].text)
        outcome: dict[str, object] = {}
        working = anyio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            working.set()

        async def slow_call() -> None:
            try:
                await client.call_tool("slow", {"seconds": 20}, progress_callback=on_progress)
            except MCPError as exc:
                outcome["error"] = exc

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow_call)
            with anyio.fail_after(10):
                await working.wait()  # the slow call is running in the upstream process
            os.kill(first_pid, signal.SIGKILL)
        error = outcome["error"]
        assert isinstance(error, MCPError)
        assert "closed before it answered" in error.error.message

        second_pid = int((await client.call_tool("pid", {})).content[0].text)
        echoed = await client.call_tool("echo", {"text": "still here"})
    assert second_pid != first_pid
    assert server.supervisor.restarts == 1
    assert echoed.content[0].text == "still here"


async def test_an_upstream_that_crashes_itself_is_restarted() -> None:
    async with served() as (transport, server), open_client(transport, timeout=30) as client:
        with pytest.raises(MCPError) as crashed:
            await client.call_tool("crash", {})
        echoed = await client.call_tool("echo", {"text": "back"})
    assert "closed before it answered" in crashed.value.error.message
    assert echoed.content[0].text == "back"
    assert server.supervisor.restarts == 1


async def test_a_call_the_upstream_does_not_answer_in_time_gets_a_json_rpc_error() -> None:
    async with served(call_timeout=0.5) as (transport, _), open_client(transport, timeout=20) as client:
        with pytest.raises(MCPError) as timed_out:
            await client.call_tool("slow", {"seconds": 5})
        echoed = await client.call_tool("echo", {"text": "next"})
    assert timed_out.value.error.code == types.REQUEST_TIMEOUT
    assert "within 0.5s" in timed_out.value.error.message
    assert echoed.content[0].text == "next"


async def test_the_upstreams_stderr_goes_to_our_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="asyncmcp_cli.upstream")
    async with served() as (transport, _), open_client(transport, timeout=20) as client:
        await client.call_tool("echo", {"text": "x"})
        with anyio.fail_after(10):
            while not any("starting" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110 - logged by a thread
                await anyio.sleep(0.02)
    line = next(r.getMessage() for r in caplog.records if "starting" in r.getMessage())
    assert line.startswith("[python") and "test upstream" in line


async def test_a_command_that_does_not_exist_fails_at_once_with_the_reason() -> None:
    with pytest.raises(ConfigurationError, match="no such command"):
        async with upstream_server(CommandTarget.of(["asyncmcp-no-such-server-command"])):
            pass


async def test_a_command_that_exits_at_once_fails_at_once() -> None:
    with pytest.raises(ConfigurationError, match="did not start"):
        async with upstream_server(CommandTarget.of([sys.executable, "-c", "raise SystemExit(2)"])):
            pass


def test_the_clients_connection_envelope_is_not_sent_upstream() -> None:
    params = {
        "name": "echo",
        "_meta": {
            types.PROTOCOL_VERSION_META_KEY: "2026-07-28",
            types.CLIENT_CAPABILITIES_META_KEY: {},
            types.CLIENT_INFO_META_KEY: {"name": "c", "version": "1"},
            "io.asyncmcp/clientId": "abc",
            "progressToken": 7,
        },
    }
    assert upstream_params(params) == {"name": "echo", "_meta": {"progressToken": 7}}
    assert upstream_params({"name": "echo", "_meta": {types.PROTOCOL_VERSION_META_KEY: "x"}}) == {"name": "echo"}
    assert upstream_params(None) is None
