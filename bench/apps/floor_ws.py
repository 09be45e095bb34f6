"""The floor, WebSocket: RFC 6455 by hand on an asyncio `Protocol`, msgspec, uvloop; no framework.

What answering MCP over a WebSocket costs with nothing but the loop, the codec and the framing itself:
each TCP connection is one `asyncio.Protocol` (no task, future or async iterator per connection or per
message); the bytes a read brings are cut into frames right there, each text message decoded and
answered as `floor_stdio.answer` answers it (one decode, one encode, in order, no validation), and the
answers of one read leave in one write, as mcpbind's `run_websocket` sends them. The subprotocol is
`mcp`, without extensions (no per-message compression).

It does what the protocol requires of a server, no less: the upgrade checked (a GET with `Upgrade:
websocket`, version 13, a key; `Sec-WebSocket-Accept` computed), every client frame required masked
(unmasked with the `websockets` library's C helper) with no reserved bit set, text checked to be UTF-8,
a message over 4 MiB refused (1009, mcpbind's default limit), fragments joined, control frames short
and final, a ping answered with its pong, a close answered with a close, then the end of the socket;
any violation ends the connection with its close code (1002, 1007, 1009). Nothing else: no keep-alive
pings, no Origin or Host checks, no deadlines.

SIGINT (what `http_callgrind.py` stops it with) closes the listening socket and every connection
(1001) and the process ends within the loop turn: no handshake awaited, no task left to cancel.

    python bench/apps/floor_ws.py PORT
"""

from __future__ import annotations

import asyncio
import base64
import signal
import sys
from pathlib import Path
from struct import pack, unpack_from

import uvloop
from websockets.speedups import apply_mask
from websockets.utils import accept_key

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor_stdio import answer, decode

MAX_MESSAGE = 4 * 1024 * 1024
"""Bytes of one message at most (mcpbind's `WebSocketOptions.max_message` by default)."""
MAX_HEAD = 16 * 1024
"""Bytes of an upgrade request's head at most."""
PROTOCOL_ERROR, INVALID_DATA, TOO_BIG, GOING_AWAY = 1002, 1007, 1009, 1001


def text_frame(data: bytes) -> bytes:
    """An unmasked, unfragmented text frame from the server."""
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return pack("!BBH", 0x81, 126, n) + data
    return pack("!BBQ", 0x81, 127, n) + data


def close_frame(code: int, reason: str = "") -> bytes:
    payload = pack("!H", code) + reason.encode()
    return bytes((0x88, len(payload))) + payload


def upgrade(head: bytes) -> bytes | None:
    """The 101 answer to an upgrade request's `head` (up to its blank line), or None to refuse it."""
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("GET ") or not lines[0].endswith(" HTTP/1.1"):
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            name = name.strip().lower()
            value = value.strip()
            fields[name] = f"{fields[name]}, {value}" if name in fields else value
    key = fields.get("sec-websocket-key", "")
    if (
        "websocket" not in fields.get("upgrade", "").lower()
        or "upgrade" not in fields.get("connection", "").lower()
        or fields.get("sec-websocket-version") != "13"
        or len(base64.b64decode(key.encode(), validate=False)) != 16
    ):
        return None
    accept = accept_key(key)
    offered = [p.strip() for p in fields.get("sec-websocket-protocol", "").split(",")]
    chosen = "Sec-WebSocket-Protocol: mcp\r\n" if "mcp" in offered else ""
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n{chosen}\r\n"
    ).encode()


class Floor(asyncio.Protocol):
    """One TCP connection: its upgrade, then its frames."""

    def __init__(self, connections: set[Floor]) -> None:
        self.connections = connections
        self.transport: asyncio.Transport | None = None
        self.open = False  # upgraded, and no close sent or received
        self.buf = b""  # the bytes of a head or a frame not all read yet
        self.fragments: list[bytes] | None = None  # a fragmented text message's data so far

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.open = False

    def end(self, code: int, reason: str = "") -> None:
        """Close the WebSocket (`code`) and the socket after it."""
        if self.transport is not None:
            if self.open:
                self.transport.write(close_frame(code, reason))
            self.transport.close()
        self.open = False
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        if self.buf:
            data = self.buf + data
            self.buf = b""
        if not self.open:
            if self.transport is None or self.transport.is_closing():
                return
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > MAX_HEAD:
                    self.transport.close()
                else:
                    self.buf = data
                return
            accepted = upgrade(data[:end])
            if accepted is None:
                self.transport.write(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                self.transport.close()
                return
            self.transport.write(accepted)
            self.open = True
            data = data[end + 4 :]
        out: list[bytes] = []
        start, size = 0, len(data)
        while self.open and size - start >= 2:
            first, second = data[start], data[start + 1]
            if not second & 0x80 or first & 0x70:
                self.end(PROTOCOL_ERROR)  # unmasked, or a reserved bit with no extension
                break
            length, at = second & 0x7F, start + 2
            if length == 126:
                if size < at + 2:
                    break
                length, at = unpack_from("!H", data, at)[0], at + 2
            elif length == 127:
                if size < at + 8:
                    break
                length, at = unpack_from("!Q", data, at)[0], at + 8
            if length > MAX_MESSAGE:
                self.end(TOO_BIG)
                break
            if size < at + 4 + length:
                break  # (the rest of the frame comes in a later read)
            payload = apply_mask(data[at + 4 : at + 4 + length], data[at : at + 4])
            start = at + 4 + length
            opcode, fin = first & 0x0F, first & 0x80
            if opcode == 0x1 and self.fragments is None:
                if not fin:
                    self.fragments = [payload]
                    continue
            elif opcode == 0x0 and self.fragments is not None:
                self.fragments.append(payload)
                if sum(map(len, self.fragments)) > MAX_MESSAGE:
                    self.end(TOO_BIG)
                    break
                if not fin:
                    continue
                payload, self.fragments = b"".join(self.fragments), None
            elif opcode >= 0x8 and fin and length < 126:
                if opcode == 0x9:
                    out.append(bytes((0x8A, length)) + payload)  # a ping: its pong
                elif opcode == 0x8:  # a close: answered, then the end of the socket
                    code = unpack_from("!H", payload)[0] if length >= 2 else 1000
                    self.end(code if length >= 2 else 1000)
                continue  # (a pong: nothing to do)
            else:
                self.end(PROTOCOL_ERROR)  # binary (MCP is text), a stray fragment, a bad control frame
                break
            if not payload.isascii():
                try:
                    payload.decode()
                except UnicodeDecodeError:
                    self.end(INVALID_DATA)
                    break
            msg = decode(payload)
            if msg.id is not None and msg.method is not None:
                out.append(text_frame(answer(msg)))
        if self.open and start < size:
            self.buf = data[start:]
        if out and self.transport is not None:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    connections: set[Floor] = set()
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGINT, lambda: stopped.done() or stopped.set_result(None))
    server = await loop.create_server(lambda: Floor(connections), "127.0.0.1", port)
    await stopped
    server.close()
    for conn in list(connections):
        conn.end(GOING_AWAY)


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
