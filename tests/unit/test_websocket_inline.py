"""The standalone WebSocket connection serves what it reads in its read callback: a burst of requests
read at once is answered there, in one write, and the connection's reader is not woken for them."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from mcpbind.server import Server
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.websocket.core import WebSocketOptions
from mcpbind.transports.websocket.standalone import Connection, Endpoint

UPGRADE = (
    b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + base64.b64encode(b"0123456789abcdef") + b"\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n\r\n"
)


class Collecting(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    n = len(data)
    head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
    return head + b"\x00\x00\x00\x00" + data


def texts(written: bytes) -> list[dict[str, Any]]:
    out = []
    while written:
        assert written[0] == 0x81
        n, at = written[1], 2
        if n == 126:
            n, at = int.from_bytes(written[2:4], "big"), 4
        out.append(json.loads(written[at : at + n]))
        written = written[at + n :]
    return out


def call(rid: int, text: str) -> dict[str, Any]:
    params = {"name": "echo", "arguments": {"text": text}}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def test_a_burst_read_at_once_is_answered_in_one_write() -> None:
    server = Server("t", "0")

    @server.tool()
    async def echo(text: str) -> str:
        return text

    async def run() -> None:
        loop = asyncio.get_running_loop()
        protocol = Connection(Endpoint(server, "/mcp", HttpSecurity(), WebSocketOptions(ping_interval=None)))
        transport = Collecting()
        protocol.connection_made(transport)
        protocol.data_received(UPGRADE)
        for _ in range(20):
            await asyncio.sleep(0)
        assert transport.writes[0].startswith(b"HTTP/1.1 101")
        init = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "c", "version": "0"},
        }
        loop.call_soon(
            protocol.data_received, frame({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init})
        )
        for _ in range(20):
            await asyncio.sleep(0)
        assert texts(transport.writes[-1])[0]["id"] == 0
        protocol.data_received(frame({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        for _ in range(20):
            await asyncio.sleep(0)
        assert protocol.waiter is not None and not protocol.waiter.done()  # the reader waits
        before = len(transport.writes)
        reader = protocol.waiter
        # Three calls in one read, from the loop's read callback, as a socket delivers them.
        loop.call_soon(protocol.data_received, b"".join(frame(call(i, f"t{i}")) for i in (1, 2, 3)))
        await asyncio.sleep(0)
        assert len(transport.writes) == before + 1  # answered there, in one write
        answers = texts(transport.writes[-1])
        assert [a["id"] for a in answers] == [1, 2, 3]
        assert [a["result"]["content"][0]["text"] for a in answers] == ["t1", "t2", "t3"]
        assert protocol.waiter is reader and not reader.done()  # the reader was not woken
        protocol.connection_lost(None)
        assert protocol.task is not None
        await protocol.task

    asyncio.run(run())
