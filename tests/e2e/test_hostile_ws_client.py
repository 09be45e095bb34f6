"""The WebSocket client against a server that floods it with pings while reading nothing of its (a raw
asyncio server on 127.0.0.1, speaking the frames itself: no library server sends a flood and stops
reading). Each ping is owed a pong, which the client writes as it reads the ping: the pongs must not
pile up in the client's write buffer without bound (the client stops reading a server that does not
read), and the connection is served again once the server reads.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import pytest

pytest.importorskip("websockets")

from mcpbind.client import Client
from mcpbind.errors import SessionClosed

REVISION = "2025-11-25"
TIMEOUT = 60.0
FLOOD = 64 << 20
"""Bytes of pings the server tries to send: far more than the socket buffers on both sides hold."""
BOUND = 4 << 20
"""The most the client's write buffer may hold of the pongs it owes (a read's worth of pings each
owes one: its transport's high-water mark and the last read, not the whole flood)."""
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server frame (FIN, unmasked)."""
    size = len(payload)
    if size < 126:
        return bytes([0x80 | opcode, size]) + payload
    if size < 1 << 16:
        return bytes([0x80 | opcode, 126]) + struct.pack("!H", size) + payload
    return bytes([0x80 | opcode, 127]) + struct.pack("!Q", size) + payload


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", await reader.readexactly(8))[0]
    mask = await reader.readexactly(4)  # (a client's frames are masked)
    data = await reader.readexactly(size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def _flood(writer: asyncio.StreamWriter) -> int:
    """Pings, reading nothing, until FLOOD bytes or until the client stops reading (its socket and
    ours full for a second); the bytes sent."""
    burst = _frame(0x9, b"p" * 125) * 512
    sent = 0
    while sent < FLOOD:
        writer.write(burst)
        sent += len(burst)
        try:
            await asyncio.wait_for(writer.drain(), 1.0)
        except TimeoutError:
            break  # the client reads no more: what the fix is for
    return sent


async def _handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the client's upgrade request and accept it (subprotocol `mcp`)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    key = next(
        line.split(":", 1)[1].strip()
        for line in head.split("\r\n")
        if line.lower().startswith("sec-websocket-key")
    )
    accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: mcp\r\n\r\n".encode()
    )


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, floods: list[int]) -> None:
    with suppress(asyncio.IncompleteReadError, ConnectionError):
        await _handshake(reader, writer)
        while True:
            opcode, data = await _read_frame(reader)
            if opcode != 0x1:
                continue  # pongs: read and dropped (once the flood is over)
            message = json.loads(data)
            rid, method = message.get("id"), message.get("method")
            if rid is None:
                continue
            result: dict[str, Any] = {}
            if method == "initialize":
                info = {"name": "flood", "version": "0"}
                result = {"protocolVersion": REVISION, "capabilities": {}, "serverInfo": info}
            elif method == "ping" and not floods:
                floods.append(await _flood(writer))
            answer = json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()
            writer.write(_frame(0x1, answer))  # (not drained: the pongs are read meanwhile)
    writer.close()


@asynccontextmanager
async def flooding_server() -> AsyncIterator[tuple[str, list[int]]]:
    floods: list[int] = []
    server = await asyncio.start_server(lambda r, w: _serve(r, w, floods), "127.0.0.1", 0)
    try:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp", floods
    finally:
        server.close()
        with suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5)


def test_a_ping_flood_from_a_server_that_reads_nothing_is_bounded() -> None:
    async def main() -> None:
        async with flooding_server() as (url, floods):
            client = Client.websocket(url, mode=REVISION, request_timeout=TIMEOUT)
            async with client:
                connection = client.transport.connection  # type: ignore[attr-defined]  # (a WebSocket client's)
                most = 0

                async def watch() -> None:
                    nonlocal most
                    while True:
                        most = max(most, connection.transport.get_write_buffer_size())
                        await asyncio.sleep(0.005)

                watcher = asyncio.ensure_future(watch())
                try:
                    await asyncio.wait_for(client.ping(), TIMEOUT)  # answered once the server reads
                finally:
                    watcher.cancel()
                assert floods and floods[0] < FLOOD, "the client read the whole flood"
                assert most < BOUND, f"{most} bytes of pongs piled up in the client's write buffer"
                await asyncio.wait_for(client.ping(), TIMEOUT)  # the connection goes on

    asyncio.run(asyncio.wait_for(main(), 120))


HELD = 8.0
"""Under websockets' close timeout (10 s): a request that fails later waited out the close handshake."""
SMALL = 4096
"""The client's `max_message` in the refusal tests."""
REFUSED = {
    "binary": (_frame(0x2, b"{}"), "binary frame: 1003"),
    "not-utf8": (_frame(0x1, b'"\xff\xfe"'), "invalid UTF-8 at position 1: 1007"),
    "too-large": (_frame(0x1, b'"' + b"x" * SMALL + b'"'), ": 1009"),
    "close-frame": (_frame(0x8, struct.pack("!H", 1011) + b"server bored"), "server bored: 1011"),
}


async def _serve_then_refused(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, frame: bytes, release: asyncio.Event
) -> None:
    """Answers `initialize`; answers the first ping with `frame` (what the client refuses, or a close
    frame), then finishes no close handshake: reads and drops what comes, keeping the connection
    open, until `release`."""
    with suppress(asyncio.IncompleteReadError, ConnectionError):
        await _handshake(reader, writer)
        while True:
            opcode, data = await _read_frame(reader)
            if opcode != 0x1:
                continue
            message = json.loads(data)
            if message.get("method") == "initialize":
                info = {"name": "refused", "version": "0"}
                result = {"protocolVersion": REVISION, "capabilities": {}, "serverInfo": info}
                writer.write(
                    _frame(
                        0x1, json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
                    )
                )
            elif message.get("method") == "ping":
                writer.write(frame)
                await release.wait()
                break
    writer.close()


@pytest.mark.parametrize("case", list(REFUSED))
def test_requests_in_flight_fail_at_once_when_the_connection_ends(case: str) -> None:
    """A frame the client refuses (binary, not UTF-8, over `max_message`), or a close frame, ends the
    connection: the requests in flight fail then with SessionClosed naming why (reason and close
    code), not after the close handshake, which this server never finishes (websockets' close
    timeout, 10 s and more)."""
    frame, why = REFUSED[case]

    async def main() -> None:
        release = asyncio.Event()
        server = await asyncio.start_server(
            lambda r, w: _serve_then_refused(r, w, frame, release), "127.0.0.1", 0
        )
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp"
        try:
            client = Client.websocket(url, mode=REVISION, request_timeout=TIMEOUT, max_message=SMALL)
            async with client:
                started = time.monotonic()
                with pytest.raises(SessionClosed, match=re.escape(why)):
                    await asyncio.wait_for(client.ping(), TIMEOUT)
                assert time.monotonic() - started < HELD
                release.set()  # (the server lets the connection go: the client's close is quick)
        finally:
            release.set()
            server.close()
            with suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 5)

    asyncio.run(asyncio.wait_for(main(), 120))
