"""Deliberately wrong use of `Client`: mypy --strict must reject every marked line."""

from __future__ import annotations

from typing import Any

from mcpbind.client import Client
from mcpbind.generated import latest as mcp


def sync_sampling(params: dict[str, Any]) -> dict[str, Any]:
    return {}


async def progress(done: str) -> None:
    print(done)


async def use() -> None:
    Client.stdio("python", ["server.py"], mode="2025-13-01")  # E: arg-type
    Client.stdio("python", ["server.py"], timeout=3.0)  # E: call-arg
    Client.http("http://127.0.0.1:1/mcp", sampling=sync_sampling)  # E: arg-type
    async with Client.stdio("python") as client:
        await client.call_tool("add", {"a": 1}, progress=progress)  # E: arg-type
        result = await client.call_tool("add")
        text: str = result.content[0].text  # E: union-attr
        failed: str = result.is_error  # E: assignment
        tools = await client.list_tools()
        schema: str = tools[0].input_schema  # E: assignment
        await client.get_prompt("greet", {"n": 1})  # E: dict-item
        prompt = await client.get_prompt("greet")
        prompt.messages.append(mcp.TextContent(text="x"))  # E: arg-type
        await client.read_resource(3)  # E: arg-type
        stub = client.stub_for("2026-07-28")
        await stub.ping()  # E: attr-defined
        client.stub_for("2025-13-01")  # E: call-overload
