"""The standalone WebSocket connection serves what it reads in its read callback: a burst of requests
read at once is answered there, in one write, and the connection's reader is not woken for them."""

from __future__ import annotations

import asyncio
import base64
import contextvars
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


SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("SEEN", default="")


def test_a_lone_frame_is_answered_in_its_read_with_the_readers_task_and_a_context_of_its_own() -> None:
    """The connection holds what is sent while it serves a read (`InlineHolding`): the peer holds
    nothing around that service, and a lone call's answer is written at the end of the read; a tool
    that waits is answered later all the same, and writes are not left held."""
    server = Server("t", "0")
    tasks: list[asyncio.Task[Any] | None] = []
    seen: list[str] = []

    @server.tool()
    async def echo(text: str) -> str:
        tasks.append(asyncio.current_task())
        seen.append(SEEN.get())
        SEEN.set(text)
        return text

    @server.tool()
    async def later(text: str) -> str:
        await asyncio.sleep(0)
        return text

    async def run() -> None:
        loop = asyncio.get_running_loop()
        endpoint = Endpoint(server, "/mcp", HttpSecurity(), WebSocketOptions(ping_interval=None))
        protocol = Connection(endpoint)
        transport = Collecting()
        protocol.connection_made(transport)
        protocol.data_received(UPGRADE)
        for _ in range(20):
            await asyncio.sleep(0)
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
        protocol.data_received(frame({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        for _ in range(20):
            await asyncio.sleep(0)
        reader = protocol.waiter
        assert reader is not None and not reader.done()
        for rid in range(1, 5):  # (the first call of a revision goes the general way, the rest the lane)
            before = len(transport.writes)
            loop.call_soon(protocol.data_received, frame(call(rid, f"t{rid}")))
            await asyncio.sleep(0)
            assert len(transport.writes) == before + 1  # answered in its read, in one write
            answer = texts(transport.writes[-1])
            assert [(a["id"], a["result"]["content"][0]["text"]) for a in answer] == [(rid, f"t{rid}")]
            assert protocol.waiter is reader and not reader.done()  # the reader was not woken
        assert seen == ["", "", "", ""]  # each call's context its own
        assert len(set(tasks)) == 1 and tasks[0] is not None and not tasks[0].done()  # the reader's
        assert not protocol.held and protocol.flush_soon is None
        # A tool that waits: its answer goes once it ends, as writes are not held meanwhile.
        before = len(transport.writes)
        loop.call_soon(
            protocol.data_received,
            frame({**call(5, "w"), "params": {"name": "later", "arguments": {"text": "w"}}}),
        )
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(transport.writes) == before + 1
        assert texts(transport.writes[-1])[0]["result"]["content"][0]["text"] == "w"
        assert not protocol.held
        protocol.connection_lost(None)
        assert protocol.task is not None
        await protocol.task

    asyncio.run(run())
