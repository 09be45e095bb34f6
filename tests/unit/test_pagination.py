"""List cursors hold through a change of the list between pages: the next page starts after the item
the last one ended with, wherever it now is (a tool removed or added between pages, or, over several
workers, pages asked of workers whose lists differ)."""

from __future__ import annotations

import asyncio
import base64

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.server import Server


def server_of(names: list[str]) -> Server:
    server = Server("paged", page_size=2)
    for name in names:
        server.tool(name=name)(lambda: "x")
    return server


async def names(client: Client, cursor: str | None = None) -> tuple[list[str], str | None]:
    result = await client.request("tools/list", {"cursor": cursor} if cursor else {})
    return [t.name for t in result.tools], result.next_cursor or None


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_a_tool_removed_between_pages_skips_nothing_listed_after_it(mode: str) -> None:
    server = server_of(["a", "b", "c", "d", "e"])

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            first, cursor = await names(client)
            assert first == ["a", "b"] and cursor is not None
            server.remove_tool("a")  # an offset would now skip "c"
            second, cursor = await names(client, cursor)
            assert second == ["c", "d"]
            third, cursor = await names(client, cursor)
            assert third == ["e"] and cursor is None

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_tool_added_before_the_cursor_lists_nothing_twice() -> None:
    server = server_of(["b", "c", "d"])

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            first, cursor = await names(client)
            assert first == ["b", "c"]
            # Another worker's list (or this one, changed) holds one more tool before "c".
            server.remove_tool("c")
            server.remove_tool("d")
            for name in ("a", "c", "d"):
                server.tool(name=name)(lambda: "x")
            second, cursor = await names(client, cursor)
            assert second == ["d"] and cursor is None

    asyncio.run(asyncio.wait_for(main(), 30))


def test_cursors_that_are_not_ours_are_invalid_params() -> None:
    server = server_of(["a", "b", "c"])

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            for bad in (
                "%%%",
                base64.urlsafe_b64encode(b"99:a").decode(),
                base64.urlsafe_b64encode(b"x:a").decode(),
            ):
                with pytest.raises(McpError) as caught:
                    await names(client, bad)
                assert caught.value.code == -32602, bad
            # A cursor of an item no longer listed goes on from its position.
            gone = base64.urlsafe_b64encode(b"2:zzz").decode()
            assert (await names(client, gone))[0] == ["c"]

    asyncio.run(asyncio.wait_for(main(), 30))
