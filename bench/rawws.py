"""A minimal WebSocket client for the server benchmark, as `rawhttp` is for HTTP: the load generator must
cost far less than the servers it drives, and the `websockets` client's futures and message assembly
cost about as much per message as its server does.

One ``Connection`` is one socket: the upgrade (subprotocol ``mcp``), then text frames out (masked with
an all-zero key, which leaves the payload as it is: a benchmark driver needs no unpredictability) and
unfragmented, unmasked frames in, each handed to a callback; a ping is answered with its pong. Nothing
else of RFC 6455 is implemented: no fragments, no close handshake.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable

_READ = memoryview(bytearray(256 * 1024))
"""What every connection reads its socket into, as `rawhttp` does: no bytes object (a mapped block) per
read."""


def client_frame(data: bytes) -> bytes:
    """One text frame from a client, masked with the zero key (its payload as it is)."""
    n = len(data)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return head + b"\x00\x00\x00\x00" + data


class _Protocol(asyncio.BufferedProtocol):
    def __init__(self, on_message: Callable[[bytes], None]) -> None:
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the upgrade"))
        if not self.lost.done():
            self.lost.set_result(None)

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ

    def buffer_updated(self, nbytes: int) -> None:
        buf = self.buf
        buf += _READ[:nbytes]
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(bytes(buf[: end + 4]).decode("latin-1")))
                return
            del buf[: end + 4]
            self.upgraded.set_result(None)
        start = 0
        size = len(buf)
        while size - start >= 2:
            length, at = buf[start + 1] & 0x7F, start + 2
            if length == 126:
                if size - start < 4:
                    break
                length, at = struct.unpack_from("!H", buf, start + 2)[0], start + 4
            elif length == 127:
                if size - start < 10:
                    break
                length, at = struct.unpack_from("!Q", buf, start + 2)[0], start + 10
            if size < at + length:
                break
            opcode = buf[start] & 0x0F
            if opcode == 0x1:  # text
                self.on_message(bytes(buf[at : at + length]))
            elif opcode == 0x9 and self.transport is not None and length < 126:  # a ping: its pong
                # (a server drops a connection whose pongs do not come: a long run under callgrind)
                self.transport.write(
                    bytes((0x8A, 0x80 | length)) + b"\x00\x00\x00\x00" + buf[at : at + length]
                )
            start = at + length
        del buf[:start]


class Connection:
    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol
        assert protocol.transport is not None
        self._transport = protocol.transport

    @classmethod
    async def open(cls, host: str, port: int, path: str, on_message: Callable[[bytes], None]) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(lambda: _Protocol(on_message), host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        assert protocol.transport is not None
        protocol.transport.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: mcp\r\n\r\n"
            ).encode()
        )
        await asyncio.wait_for(protocol.upgraded, 10)
        return cls(protocol)

    def send(self, data: bytes) -> None:
        """One text frame, masked with the zero key (the payload unchanged)."""
        self._transport.write(client_frame(data))

    async def close(self) -> None:
        self._transport.write(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # close 1000
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.lost), 2)
        except TimeoutError:
            self._transport.abort()
