"""Typed use of `Client`: must pass mypy --strict."""

from __future__ import annotations

from typing import Any

from mcpbind.client import Client
from mcpbind.generated import latest as mcp


async def sampling(params: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"}


async def on_log(params: dict[str, Any]) -> None:
    print(params["level"])


async def progress(done: float, total: float | None, message: str | None) -> None:
    print(done, total, message)


async def use() -> list[str]:
    async with Client.stdio(
        "python",
        ["server.py"],
        mode="2025-11-25",
        sampling=sampling,
        sampling_tools=True,
        on_log=on_log,
        run_tasks=False,
    ) as client:
        result: mcp.CallToolResult = await client.call_tool("add", {"a": 1}, progress=progress, timeout=5.0)
        first = result.content[0]
        texts = [first.text] if isinstance(first, mcp.TextContent) else []
        tools: list[mcp.Tool] = await client.list_tools()
        names = [t.name for t in tools] + [r.uri for r in await client.list_resources()]
        names += [t.uri_template for t in await client.list_resource_templates()]
        prompt = await client.get_prompt("greet", {"name": "Bo"})
        names += [m.role for m in prompt.messages]
        read = await client.read_resource("memo://hello")
        names += [c.uri for c in read.contents]
        done = await client.complete(mcp.PromptReference(name="greet"), {"name": "name", "value": "a"})
        names += done.completion.values
        stub = client.stub_for("2025-11-25")
        await stub.ping(None)
        return texts + names


async def modern() -> bool:
    async with Client.http("http://127.0.0.1:1/mcp", mode="2026-07-28", request_timeout=None) as client:
        stub = client.stub_for("2026-07-28")
        listed = await stub.list_tools(mcp.PaginatedRequestParams(meta=client.request_meta()))
        return bool(listed.tools)
