"""A request the server withdraws (`notifications/cancelled` for an id of its own: the call that asked
was cancelled) cancels the client's callback answering it, as the TypeScript SDK's servers send it
(tests/interop_ts/test_ts_servers.py) and mcpbind's own server does: in process, no sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.server import Context, Server

server = Server("asks")


@server.tool()
async def ask(ctx: Context) -> str:
    outcome = await ctx.elicit("Wait for me", {"type": "object", "properties": {}})
    return outcome.action


@server.tool()
async def echo(text: str) -> str:
    return text


@pytest.mark.parametrize("callback", ["elicitation", "sampling"])
def test_the_servers_cancel_reaches_the_callback(callback: str) -> None:
    entered = asyncio.Event()
    outcome: list[str] = []

    async def waits(params: dict[str, Any]) -> dict[str, Any]:
        entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("answered")
        return {"action": "accept", "content": {}}

    @server.tool(name=f"sample_{callback}")
    async def sample(ctx: Context) -> str:
        result = await ctx.sample([{"role": "user", "content": {"type": "text", "text": "hi"}}], 10)
        return str(result)

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25", **{callback: waits}) as client:
            tool = "ask" if callback == "elicitation" else f"sample_{callback}"
            call = asyncio.ensure_future(client.call_tool(tool, {}))
            await asyncio.wait_for(entered.wait(), 10)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            for _ in range(500):
                if outcome:
                    break
                await asyncio.sleep(0.01)
            assert outcome == ["cancelled"]
            # The connection goes on.
            assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"

    asyncio.run(asyncio.wait_for(main(), 30))
