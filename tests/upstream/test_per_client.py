"""Server requests (sampling, elicitation) reach the client whose call caused them, with many clients calling at once.

Each client that can receive server requests gets an upstream session of its
own, initialized with its capabilities; the others share one.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from asyncmcp_cli.client import open_client
from asyncmcp_cli.transports.memory import MemoryTransport
from tests.conftest import wait_until
from tests.upstream.support import served

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


class BothAsked:
    """Holds every callback until each of `names` has been asked: proof that the calls were in flight together."""

    def __init__(self, *names: str) -> None:
        self.asked: dict[str, str] = {}
        self._names = set(names)
        self._all = anyio.Event()

    async def arrived(self, name: str, text: str) -> None:
        self.asked[name] = text
        if self._names <= set(self.asked):
            self._all.set()
        with anyio.fail_after(30):
            await self._all.wait()


def callbacks(name: str, both: BothAsked) -> dict[str, Any]:
    async def sample(context: object, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        content = params.messages[0].content
        await both.arrived(name, content.text if isinstance(content, types.TextContent) else "?")
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=f"{name} sampled"), model="test"
        )

    async def elicit(context: object, params: types.ElicitRequestParams) -> types.ElicitResult:
        await both.arrived(name, params.message)
        return types.ElicitResult(action="accept", content={"answer": f"{name} answered"})

    return {"sampling_callback": sample, "elicitation_callback": elicit}


async def call_as(transport: MemoryTransport, name: str, both: BothAsked, tool: str, arguments: dict[str, str]) -> str:
    async with open_client(transport, era="handshake", client_id=name, timeout=40, **callbacks(name, both)) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result
    assert isinstance(result.content[0], types.TextContent)
    return result.content[0].text


@pytest.mark.parametrize(
    ("tool", "argument", "answer"),
    [("sample", "prompt", "{name} sampled"), ("ask", "question", "accept:{name} answered")],
)
async def test_each_of_two_clients_calling_at_once_gets_its_own_server_request(
    tool: str, argument: str, answer: str
) -> None:
    both = BothAsked("alice", "bob")
    results: dict[str, str] = {}
    async with served() as (transport, _):

        async def client(name: str) -> None:
            results[name] = await call_as(transport, name, both, tool, {argument: f"from {name}"})

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client, "alice")
                tg.start_soon(client, "bob")
    assert both.asked == {"alice": "from alice", "bob": "from bob"}
    assert results == {name: answer.format(name=name) for name in ("alice", "bob")}


async def test_a_client_with_callbacks_gets_its_own_upstream_process_and_the_others_share_one() -> None:
    both = BothAsked()
    async with served() as (transport, server):

        async def pid(name: str, era: str = "handshake", **options: Any) -> int:
            async with open_client(transport, era=era, client_id=name, timeout=30, **options) as client:
                return int((await client.call_tool("pid", {})).content[0].text)

        with anyio.fail_after(60):
            sampler = await pid("sampler", **callbacks("sampler", both))
            plain = await pid("plain")
            stateless = await pid("stateless", era="stateless", **callbacks("stateless", both))
        assert server.client_links is not None and server.client_links.open_count == 1
    assert plain == stateless
    assert sampler != plain


async def test_in_shared_mode_every_client_shares_one_upstream_process() -> None:
    both = BothAsked()
    async with served(sessions="shared") as (transport, server):
        async with open_client(transport, era="handshake", timeout=30, **callbacks("sampler", both)) as client:
            sampler = int((await client.call_tool("pid", {})).content[0].text)
        async with open_client(transport, era="handshake", timeout=30) as client:
            plain = int((await client.call_tool("pid", {})).content[0].text)
    assert server.client_links is None
    assert sampler == plain


async def test_an_idle_client_session_is_closed_and_reopened_on_the_next_call() -> None:
    both = BothAsked()
    async with served(idle_timeout=0.5) as (transport, server):
        links = server.client_links
        assert links is not None
        async with open_client(transport, era="handshake", timeout=30, **callbacks("sampler", both)) as client:
            first = int((await client.call_tool("pid", {})).content[0].text)
            assert links.open_count == 1
            await wait_until(lambda: links.open_count == 0, within=20)
            second = int((await client.call_tool("pid", {})).content[0].text)
            assert links.open_count == 1
    assert first != second


async def test_when_every_client_session_is_busy_a_new_client_gets_a_json_rpc_error() -> None:
    both = BothAsked("first", "never")  # holds the first client's elicitation until the test ends
    refused: list[str] = []
    async with served(max_sessions=1) as (transport, server):
        links = server.client_links
        assert links is not None

        async def first() -> None:
            await call_as(transport, "first", both, "ask", {"question": "hold on"})

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(first)
                await wait_until(lambda: "first" in both.asked, within=30)
                async with open_client(
                    transport, era="handshake", client_id="second", timeout=30, **callbacks("second", both)
                ) as client:
                    with pytest.raises(MCPError) as error:
                        await client.call_tool("echo", {"text": "hi"})
                    refused.append(error.value.error.message)
                tg.cancel_scope.cancel()
    assert refused == ["asyncmcp: all 1 upstream sessions are busy (serve --upstream-max-sessions); try again later"]
