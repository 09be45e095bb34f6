"""The WebSocket client's reading of text frames, against a real `websockets` server on 127.0.0.1 that
answers as a test tells it: a text frame's bytes reach the client's parser as they came (no str made and
encoded back), so text that is not ASCII arrives whole, a large answer as much as a small one; a text
frame that is not UTF-8 ends the connection with 1007 and a binary frame with 1003, as the library's own
decoding did, what came before either still read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

pytest.importorskip("websockets")

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from mcpbind.client import Client
from mcpbind.errors import SessionClosed

LEGACY = "2025-11-25"
TIMEOUT = 30.0
TEXT = 'naïve “quotes” 😀 \\ "é" \x01 ' * 4


def _result(rid: Any, text: str) -> str:
    result = {"content": [{"type": "text", "text": text}], "isError": False}
    return json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}, ensure_ascii=False)


Answer = Callable[[ServerConnection, Any, str], Any]


@asynccontextmanager
async def server(answer: Answer) -> AsyncIterator[tuple[str, list[int | None]]]:
    """A server on a free port: `initialize` answered, each `tools/call` by `answer(conn, id, tool)`;
    its URL and the close codes its connections ended with."""
    codes: list[int | None] = []

    async def handle(conn: ServerConnection) -> None:
        try:
            async for message in conn:
                msg = json.loads(message)
                if "id" not in msg or "method" not in msg:
                    continue
                if msg["method"] == "initialize":
                    info = {"name": "t", "version": "0"}
                    result = {"protocolVersion": LEGACY, "capabilities": {"tools": {}}, "serverInfo": info}
                    await conn.send(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}))
                elif msg["method"] == "tools/call":
                    await answer(conn, msg["id"], msg["params"]["name"])
        except ConnectionClosed:
            pass
        finally:
            codes.append(conn.close_code)

    async with serve(handle, "127.0.0.1", 0, subprotocols=["mcp"], compression=None) as ws:  # type: ignore[list-item]
        port = next(iter(ws.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/mcp", codes


async def _text(conn: ServerConnection, rid: Any, tool: str) -> None:
    size = {"small": 1, "large": 40_000}[tool]
    await conn.send(_result(rid, TEXT * size))


def test_text_that_is_not_ascii_round_trips() -> None:
    async def run() -> None:
        async with server(_text) as (url, _), Client.websocket(url, mode=LEGACY) as client:
            for tool, size in (("small", 1), ("large", 40_000)):
                result = await asyncio.wait_for(client.call_tool(tool), TIMEOUT)
                assert result.content[0].text == TEXT * size

    asyncio.run(run())


async def _then_invalid(conn: ServerConnection, rid: Any, tool: str) -> None:
    if tool == "fine":
        await conn.send(_result(rid, TEXT))
    else:  # a text frame of bytes that are not UTF-8 (the library sends them as they are)
        await conn.send(
            _result(rid, "x").replace('"x"', '"\udcff"').encode("utf-8", "surrogateescape"), text=True
        )


async def _then_binary(conn: ServerConnection, rid: Any, tool: str) -> None:
    if tool == "fine":
        await conn.send(_result(rid, TEXT))
    else:  # the answer a text frame would carry, as a binary frame
        await conn.send(_result(rid, "fine").encode())


@pytest.mark.parametrize(
    ("answer", "code"), [(_then_invalid, 1007), (_then_binary, 1003)], ids=["invalid-utf8", "binary"]
)
def test_a_frame_that_is_no_utf8_text_ends_the_connection(answer: Answer, code: int) -> None:
    async def run() -> None:
        async with server(answer) as (url, codes):
            client = Client.websocket(url, mode=LEGACY)
            async with client:
                assert (await asyncio.wait_for(client.call_tool("fine"), TIMEOUT)).content[0].text == TEXT
                with pytest.raises(SessionClosed):
                    await asyncio.wait_for(client.call_tool("refused"), TIMEOUT)
                transport: Any = client.transport
                assert transport.close_code == code, transport.close_reason
            for _ in range(100):  # the server's side of the close, as the client sent it
                if codes:
                    break
                await asyncio.sleep(0.05)
            assert codes == [code]

    asyncio.run(run())
