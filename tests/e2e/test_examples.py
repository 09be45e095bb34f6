"""The three example servers a new user writes first, run as users run them (their own processes) and
driven by mcpbind's client over stdio and Streamable HTTP, in both eras."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError

from ..http_support import free_port, serve_command

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTES = str(EXAMPLES / "notes_server.py")
LONG_TASK = str(EXAMPLES / "long_task_server.py")
MOUNTED = str(EXAMPLES / "mounted_http_server.py")
MODES = ["2025-11-25", "2026-07-28"]
TRANSPORTS = ["stdio", "http"]


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))  # type: ignore[arg-type]


@asynccontextmanager
async def connect(script: str, transport: str, mode: str, **options: Any) -> AsyncIterator[Client]:
    """A client of `script`, started as its docstring says (stdio by default, or `--transport http`)."""
    if transport == "stdio":
        async with Client.stdio(sys.executable, [script], mode=mode, stderr="devnull", **options) as client:
            yield client
        return
    port = free_port()
    with serve_command(port, script, "--transport", "http", "--port", str(port)):
        async with Client.http(f"http://127.0.0.1:{port}/mcp", mode=mode, **options) as client:
            yield client


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
def test_notes_server(transport: str, mode: str) -> None:
    async def main() -> None:
        async with connect(NOTES, transport, mode) as client:
            assert client.revision == mode
            tools = {t.name: t for t in await client.list_tools()}
            assert set(tools) == {"add_note", "find_notes"} and tools["find_notes"].annotations.read_only_hint
            added = await client.call_tool("add_note", {"title": "groceries", "text": "Milk and bread"})
            assert added.content[0].text == "Saved 'groceries'."
            await client.call_tool("add_note", {"title": "gardening", "text": "Water the roses"})
            found = await client.call_tool("find_notes", {"query": "milk"})
            assert found.structured_content == {"result": ["groceries"]}
            (template,) = await client.list_resource_templates()
            assert template.uri_template == "notes://{title}"
            read = await client.read_resource("notes://groceries")
            assert (read.contents[0].text, read.contents[0].mime_type) == ("Milk and bread", "text/plain")
            with pytest.raises(McpError, match="Resource not found") as missing:
                await client.read_resource("notes://nothing")
            assert missing.value.code in (-32002, -32602)
            prompt = await client.get_prompt("summarize", {"title": "gardening"})
            assert prompt.messages[0].content.text.endswith("Water the roses")
            by_prompt = await client.complete(
                {"type": "ref/prompt", "name": "summarize"}, {"name": "title", "value": "g"}
            )
            assert list(by_prompt.completion.values) == ["gardening", "groceries"]
            ref = {"type": "ref/resource", "uri": "notes://{title}"}
            by_template = await client.complete(ref, {"name": "title", "value": "gr"})
            assert list(by_template.completion.values) == ["groceries"]

    run(main())


def answers() -> dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        assert params["requestedSchema"]["properties"] == {"save": {"type": "boolean"}}
        return {"action": "accept", "content": {"save": True}}

    async def sampling(params: dict[str, Any]) -> dict[str, Any]:
        text = params["messages"][0]["content"]["text"]
        return {
            "role": "assistant",
            "content": {"type": "text", "text": f"echo {text[-3:]}"},
            "model": "test",
        }

    return {"elicitation": elicitation, "sampling": sampling}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", MODES)
def test_long_task_server(transport: str, mode: str) -> None:
    logs: list[Any] = []
    steps: list[tuple[float, float | None, str | None]] = []

    async def on_log(params: Any) -> None:
        logs.append(params["data"])

    async def progress(done: float, total: float | None, message: str | None) -> None:
        steps.append((done, total, message))

    async def main() -> None:
        async with connect(
            LONG_TASK, transport, mode, on_log=on_log, log_level="info", **answers()
        ) as client:
            await client.set_level("info")
            result = await client.call_tool("crunch", {"items": 4}, progress=progress)
            assert result.content[0].text == "Total 30, saved: echo  30"
            second = await client.call_tool("crunch", {"items": 2})
            assert second.content[0].text == "Total 5, saved: echo l 5"
            # Both runs are in the database the server opened at startup (one per process).
            history = await client.call_tool("history", {})
            assert history.structured_content == {
                "result": ["4 items: 30 (echo  30)", "2 items: 5 (echo l 5)"]
            }

    run(main())
    assert steps[:4] == [(i, 4, f"item {i} of 4") for i in range(1, 5)]
    assert "crunched 4 items" in logs


def test_long_task_declined_saves_nothing() -> None:
    async def decline(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "decline"}

    async def main() -> None:
        async with connect(LONG_TASK, "stdio", "2026-07-28", elicitation=decline) as client:
            result = await client.call_tool("crunch", {"items": 2})
            assert result.content[0].text == "Total 5, not saved."
            assert (await client.call_tool("history", {})).structured_content == {"result": []}

    run(main())


@pytest.mark.parametrize("mode", MODES)
def test_mounted_http_server(mode: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    async def token() -> str:
        return "s3cret"

    async def wrong() -> str:
        return "guess"

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(f"{url}/health")).text == "ok"
            assert (await http.post(f"{url}/mcp", json={})).status_code == 401
        async with Client.http(f"{url}/mcp", mode=mode, auth=token) as client:
            assert (await client.call_tool("whoami", {})).content[0].text == "You are operator."
        with pytest.raises(McpError, match="401"):
            async with Client.http(f"{url}/mcp", mode=mode, auth=wrong) as client:
                await client.call_tool("whoami", {})

    with serve_command(port, MOUNTED, "--port", str(port), "--token", "s3cret"):
        run(main())
