"""The lifespan server tested in memory, in both eras: the database lives as long as the connection."""

import asyncio

import pytest
from lifespan_server import server

from mcpbind.client import Client, Mode


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_visits_are_counted(mode: Mode) -> None:
    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            first = await client.call_tool("visit", {"name": "ada"})
            second = await client.call_tool("visit", {"name": "ada"})
            assert (first.structured_content, second.structured_content) == ({"result": 1}, {"result": 2})

    asyncio.run(main())
