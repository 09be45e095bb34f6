"""`@server.method(...)`: a request method no decorator covers, served from the high-level server with
typed params and a result checked against the revision's result type."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.protocol import revisions
from mcpbind.server import Context, Server
from mcpbind.server.handlers import ROUTES

REVISION = "2025-11-25"
METHOD = "tasks/list"  # in 2025-11-25's table, with no handler in the runtime itself

pytestmark = pytest.mark.skipif(
    revisions.revision(REVISION).requests[METHOD].handler in ROUTES,
    reason=f"the runtime serves {METHOD} itself now: pick another method",
)


@dataclasses.dataclass
class Page:
    cursor: str | None = None


def test_a_registered_method_is_served_with_typed_params() -> None:
    server = Server("custom", revisions_served=[REVISION])
    seen: list[Any] = []

    @server.method(METHOD, params=Page)
    async def list_tasks(params: Page, ctx: Context) -> dict[str, Any]:
        seen.append((params, ctx.revision))
        return {"tasks": [], "nextCursor": None if params.cursor == "last" else "last"}

    async def main() -> None:
        async with Client.memory(server, mode=REVISION) as client:
            first = await client.request(METHOD, {"cursor": "c1"})
            assert list(first.tasks) == [] and first.next_cursor == "last"
            second = await client.request(METHOD, {"cursor": "last"})
            assert second.next_cursor is None or not second.next_cursor

    asyncio.run(asyncio.wait_for(main(), 60))
    assert seen == [(Page("c1"), REVISION), (Page("last"), REVISION)]


def test_a_result_the_revision_forbids_is_not_sent_and_serving_goes_on() -> None:
    server = Server("custom-bad", revisions_served=[REVISION])

    @server.method(METHOD)
    def bad(params: Any, ctx: Context) -> dict[str, Any]:
        return {"tasks": "not a list"}

    async def main() -> None:
        async with Client.memory(server, mode=REVISION) as client:
            with pytest.raises(McpError, match="Internal error"):
                await client.request(METHOD, {})
            await client.ping()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_method_with_a_handler_cannot_be_registered_again() -> None:
    server = Server("custom-dup")
    with pytest.raises(ValueError, match="'tools/call' has a handler already"):
        server.method("tools/call")(lambda params, ctx: {})
    with pytest.raises(ValueError, match="'initialize' has a handler already"):
        server.method("initialize")(lambda params, ctx: {})
    server.method(METHOD)(lambda params, ctx: {"tasks": []})
    with pytest.raises(ValueError, match="has a handler already"):
        server.method(METHOD)(lambda params, ctx: {"tasks": []})
