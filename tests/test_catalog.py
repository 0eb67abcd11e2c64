"""The catalog of what a server offers, against an in-process SDK server."""

from __future__ import annotations

import pytest
from mcp import Client

from asyncmcp_cli.protocol.arguments import InvalidArgumentsError, UnknownNameError
from asyncmcp_cli.protocol.catalog import Catalog
from tests.cli.richapp import server

pytestmark = pytest.mark.anyio


async def test_lookups_coerce_and_remember() -> None:
    async with Client(server) as client:
        catalog = Catalog(client)
        assert catalog.cached_tools == []  # nothing listed until asked
        arguments = await catalog.tool_arguments("inspect_args", ["count=2", "flag=on", "tags=x,y"])
        assert arguments == {"count": 2, "flag": True, "tags": ["x", "y"]}
        assert {t.name for t in catalog.cached_tools} == {"inspect_args", "chatty", "picture"}
        assert [t.uri_template for t in await catalog.templates()] == ["rich://items/{item_id}"]
        catalog.forget("tools")
        assert catalog.cached_tools == []


async def test_an_unknown_tool_gets_a_suggestion() -> None:
    async with Client(server) as client:
        with pytest.raises(UnknownNameError, match="did you mean 'chatty'"):
            await Catalog(client).tool("chaty")


async def test_prompt_arguments_are_checked_by_name_and_requirement() -> None:
    async with Client(server) as client:
        catalog = Catalog(client)
        assert await catalog.prompt_arguments("greet", ["name=Ann", "style=warm"]) == {"name": "Ann", "style": "warm"}
        with pytest.raises(InvalidArgumentsError) as caught:
            await catalog.prompt_arguments("greet", ["nmae=Ann"])
        problems = " ".join(caught.value.problems)
        assert "did you mean 'name'" in problems
        assert "missing required argument 'name'" in problems
        with pytest.raises(UnknownNameError, match="unknown prompt 'gret'; did you mean 'greet'"):
            await catalog.prompt("gret")
