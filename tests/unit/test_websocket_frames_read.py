"""The standalone WebSocket connection reads the usual frames itself (whole, final, masked text frames
while the library's parser waits between frames) and hands everything else to the library, from its
first frame on. However a stream of frames is cut into reads (anywhere: in a head, a length, a mask, a
payload), the same messages are served, in order, with the same answers: text of each length encoding
(7, 16 and 64 bits), a ping between them (its pong), a message in fragments, a real mask."""

from __future__ import annotations

import asyncio
import json
import os
import struct
from typing import Any

import pytest
from websockets.utils import apply_mask

from mcpbind.server import Server
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.websocket.core import WebSocketOptions
from mcpbind.transports.websocket.standalone import Connection, Endpoint

from .test_websocket_inline import UPGRADE, Collecting, call

MASK = b"\x12\x34\x56\x78"


def masked(opcode: int, payload: bytes, fin: bool = True, mask: bytes = MASK) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = bytes((first, 0x80 | n))
    elif n < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    return head + mask + apply_mask(payload, mask)


def text(message: dict[str, Any]) -> bytes:
    return masked(0x1, json.dumps(message).encode())


def frames(written: bytes) -> list[tuple[int, bytes]]:
    """The server's frames (unmasked): opcode and payload."""
    out = []
    while written:
        n, at = written[1] & 0x7F, 2
        if n == 126:
            n, at = struct.unpack_from("!H", written, 2)[0], 4
        elif n == 127:
            n, at = struct.unpack_from("!Q", written, 2)[0], 10
        out.append((written[0] & 0x0F, written[at : at + n]))
        written = written[at + n :]
    return out


INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "c", "version": "0"},
    },
}


def stream() -> bytes:
    """initialize, its notification, then calls of every length encoding, a ping and a fragmented one."""
    fragmented = json.dumps(call(5, "frag")).encode()
    return b"".join(
        (
            text(INIT),
            text({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            text(call(1, "short")),
            text(call(2, "m" * 300)),  # 16-bit length
            masked(0x9, b"hi"),  # a ping between two messages
            text(call(3, "l" * 70_000)),  # 64-bit length
            masked(0x1, fragmented[:10], fin=False),
            masked(0x0, fragmented[10:20], fin=False),
            masked(0x0, fragmented[20:]),
            text(call(4, "h\u00e9llo")),  # not ASCII
            masked(0x1, json.dumps(call(6, "zero mask")).encode(), mask=b"\0\0\0\0"),
        )
    )


async def serve(reads: list[bytes], waits: bool = True) -> list[tuple[int, Any]]:
    server = Server("t", "0")

    @server.tool()
    async def echo(text: str) -> str:
        if waits:
            await asyncio.sleep(0)  # (answered from the reader's task, or later)
        return text

    protocol = Connection(Endpoint(server, "/mcp", HttpSecurity(), WebSocketOptions(ping_interval=None)))
    transport = Collecting()
    protocol.connection_made(transport)
    protocol.data_received(UPGRADE)
    for _ in range(20):
        await asyncio.sleep(0)
    assert transport.writes[0].startswith(b"HTTP/1.1 101")
    for data in reads:
        if waits:
            protocol.data_received(data)
        else:  # (in a callback of the loop, as a socket's reads come: served there, as read)
            asyncio.get_running_loop().call_soon(protocol.data_received, data)
        for _ in range(5 if waits else 50):
            await asyncio.sleep(0)
    for _ in range(50):
        await asyncio.sleep(0)
    got = [
        (opcode, json.loads(payload) if opcode == 0x1 else payload)
        for opcode, payload in frames(b"".join(transport.writes[1:]))
    ]
    protocol.connection_lost(None)
    assert protocol.task is not None
    await protocol.task
    return got


def answers(got: list[tuple[int, Any]]) -> tuple[list[Any], list[Any]]:
    texts = [(m["id"], m["result"]["content"][0]["text"]) for op, m in got if op == 0x1 and m["id"] != 0]
    return sorted(texts), [m for op, m in got if op != 0x1]


EXPECTED = (
    sorted(
        [(1, "short"), (2, "m" * 300), (3, "l" * 70_000), (5, "frag"), (4, "h\u00e9llo"), (6, "zero mask")]
    ),
    [b"hi"],  # the pong
)


def test_the_stream_in_one_read() -> None:
    got = asyncio.run(serve([stream()]))
    assert any(op == 0x1 and m["id"] == 0 and "result" in m for op, m in got)  # initialize
    assert answers(got) == EXPECTED


@pytest.mark.parametrize("seed", range(6))
def test_the_stream_cut_anywhere(seed: int) -> None:
    data = stream()
    rng = __import__("random").Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 40))
    # (and cuts near every head: one byte, two, six into a frame)
    reads = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    assert answers(asyncio.run(serve(reads))) == EXPECTED


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14])
def test_the_stream_cut_in_each_head(cut: int) -> None:
    data = stream()
    first = len(text(INIT)) + len(text({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    starts = [first]
    for message in (call(1, "short"), call(2, "m" * 300)):
        starts.append(starts[-1] + len(text(message)))
    reads, at = [], 0
    for start in starts:
        reads.append(data[at : start + cut])
        at = start + cut
    reads.append(data[at:])
    assert answers(asyncio.run(serve(reads))) == EXPECTED


def test_a_byte_at_a_time() -> None:
    data = b"".join(
        (text(INIT), text({"jsonrpc": "2.0", "method": "notifications/initialized"}), text(call(1, "short")))
    )
    got = asyncio.run(serve([data[i : i + 1] for i in range(len(data))]))
    assert [m["id"] for op, m in got if op == 0x1] == [0, 1]


def test_the_random_masks_of_a_real_client() -> None:
    message = json.dumps(call(9, "masked")).encode()
    reads = [text(INIT), masked(0x1, message, mask=os.urandom(4))]
    got = asyncio.run(serve(reads))
    assert [m["result"]["content"][0]["text"] for op, m in got if op == 0x1 and m["id"] == 9] == ["masked"]


def test_a_text_that_is_not_utf8_ends_a_burst() -> None:
    """Those read before it are answered, then the close (1007); nothing after it is served."""
    opening = text(INIT) + text({"jsonrpc": "2.0", "method": "notifications/initialized"})
    burst = b"".join(
        (
            text(call(1, "before")),
            text(call(2, "before too")),
            masked(0x1, b'{"jsonrpc": "2.0", "id": 3, "method": "ping", "x": "\xff"}'),
        )
    )
    after = text(call(4, "after"))
    for reads in ([opening, burst + after], [opening, burst, after]):
        got = asyncio.run(serve(reads, waits=False))  # (answered as read, before the close)
        assert [m["id"] for op, m in got if op == 0x1 and m["id"] != 0] == [1, 2]
        closes = [payload for op, payload in got if op == 0x8]
        assert len(closes) == 1 and struct.unpack("!H", closes[0][:2])[0] == 1007
        assert got[-1][0] == 0x8  # (the answers went first)
