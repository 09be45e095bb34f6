"""first_server.py tested as a user's test suite would: in memory (no subprocess, no socket), both eras."""

import asyncio

import pytest
from first_server import server

from mcpbind.client import Client, Mode
from mcpbind.errors import McpError


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_add(mode: Mode) -> None:
    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            assert client.revision == mode
            result = await client.call_tool("add", {"a": 2, "b": 3})
            assert result.structured_content == {"result": 5}
            assert not result.is_error

    asyncio.run(main())


def test_bad_arguments_are_refused() -> None:
    async def main() -> None:
        async with Client.memory(server) as client:
            result = await client.call_tool("add", {"a": "two", "b": 3})
            assert result.is_error  # a tool's input error is a result the model can read

    asyncio.run(main())


def test_unknown_resource() -> None:
    async def main() -> None:
        async with Client.memory(server) as client:
            with pytest.raises(McpError):
                await client.read_resource("nothing://here")

    asyncio.run(main())
