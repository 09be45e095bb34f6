"""Whom a task counts against (`max_per_client`): an authenticated principal has an allowance of its own,
whatever its name. Two servers share one task store (as workers share one Redis), under one uvicorn:
one without authentication (its stateless clients share the anonymous allowance), one whose token
names a principal literally called "anonymous". That principal does not take the anonymous clients'
allowance, nor they its."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.protocol import revisions
from mcpbind.server import Server, TaskPolicy
from mcpbind.server.tasks import MemoryTaskStore
from mcpbind.transports.http import HttpSecurity

from ..http_support import serve_in_process

MODERN = revisions.MODERN[-1]


def holding_server(store: MemoryTaskStore) -> Server:
    server = Server("allowance", "1.0.0", task_policy=TaskPolicy(max_per_client=1), task_store=store)

    @server.tool(task_support="required")
    async def hold() -> str:
        await asyncio.Event().wait()  # until cancelled
        return "never"

    return server


class ByPath:
    """One ASGI app per path prefix (`/open/...`, `/authed/...`), lifespans run for each."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = apps

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        prefix, _, rest = scope["path"].lstrip("/").partition("/")
        await self.apps[prefix]({**scope, "path": "/" + rest}, receive, send)


async def verify(token: str) -> str | None:
    return "anonymous" if token == "named-anonymous" else None


def test_a_principal_named_anonymous_has_an_allowance_of_its_own() -> None:
    store = MemoryTaskStore()
    apps = {
        "open": holding_server(store).http_app(),
        "authed": holding_server(store).http_app(security=HttpSecurity(verify_token=verify)),
    }

    async def token() -> str:
        return "named-anonymous"

    async def main(url: str) -> None:
        anonymous = Client.http(url.replace("/mcp", "/open/mcp"), mode=MODERN)
        named = Client.http(url.replace("/mcp", "/authed/mcp"), mode=MODERN, auth=token)
        async with anonymous, named:
            held = [await anonymous.start_tool_task("hold")]
            with pytest.raises(McpError) as info:  # the anonymous allowance (1) is spent
                await anonymous.start_tool_task("hold")
            assert "anonymous clients of this server share one limit" in info.value.message
            held.append(await named.start_tool_task("hold"))  # its own allowance, not theirs
            with pytest.raises(McpError) as info:
                await named.start_tool_task("hold")
            assert "this client has its limit of 1" in info.value.message
            for handle in held:
                await handle.cancel()

    with serve_in_process(ByPath(apps)) as url:
        asyncio.run(asyncio.wait_for(main(url), 60))
