"""A minimal WebSocket client for the server benchmark, as `rawhttp` is for HTTP: the load generator must
cost far less than the servers it drives, and the `websockets` client's futures and message assembly
cost about as much per message as its server does.

One ``Connection`` is one socket: the upgrade (subprotocol ``mcp``), then text frames out (masked with
an all-zero key, which leaves the payload as it is: a benchmark driver needs no unpredictability) and
unfragmented, unmasked frames in, each handed to a callback; a ping is answered with its pong, and a
close with a close. Nothing else of RFC 6455 is implemented: no fragments.

The end of the connection is never silent: a close from the server, or the socket lost, is handed to
a second callback once (with why), so that a driver waiting for answers can fail them instead of
waiting for frames that will not come; the upgrade has a deadline, past which the socket is dropped.
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


def close_frame() -> bytes:
    """A close frame from a client, status 1000 (normal closure), masked with the zero key."""
    return b"\x88\x82\x00\x00\x00\x00\x03\xe8"


class _Protocol(asyncio.BufferedProtocol):
    def __init__(self, on_message: Callable[[bytes], None], on_end: Callable[[str], None]) -> None:
        self.on_message = on_message
        self.on_end = on_end
        self.ended: str | None = None
        """Why the connection ended (a close from the server, or the socket lost); None while open."""
        self.close_sent = False
        self.open = False
        """Upgraded and not ended: frames are read."""
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
        self._end(f"the connection was lost ({exc or 'closed'})")

    def _end(self, why: str) -> None:
        self.open = False
        if self.ended is None:
            self.ended = why
            self.on_end(why)

    def _closed_by_server(self, payload: bytes) -> None:
        """A close from the server: answered with one (unless ours went first), and the end told."""
        code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
        reason = payload[2:].decode("utf-8", "replace")
        if not self.close_sent and self.transport is not None:
            self.close_sent = True
            self.transport.write(close_frame())
        self._end(f"the server closed the connection: {code} {reason}".rstrip())

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ

    def buffer_updated(self, nbytes: int) -> None:
        buf = self.buf
        if not self.open:
            if self.upgraded.done() or self.ended is not None:
                return  # (an upgrade refused or given up, or a connection ended: nothing more is read)
            buf += _READ[:nbytes]
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(bytes(buf[: end + 4]).decode("latin-1")))
                return
            del buf[: end + 4]
            self.open = True
            self.upgraded.set_result(None)
        else:
            buf += _READ[:nbytes]
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
            elif opcode == 0x8:  # a close: nothing after it is read
                self._closed_by_server(bytes(buf[at : at + length]))
                del buf[:]
                return
            start = at + length
        del buf[:start]


class Connection:
    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol
        assert protocol.transport is not None
        self._transport = protocol.transport

    @property
    def ended(self) -> str | None:
        """Why the connection ended, or None while it is open."""
        return self._protocol.ended

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        path: str,
        on_message: Callable[[bytes], None],
        on_end: Callable[[str], None] = lambda why: None,
        timeout: float = 10,
    ) -> Connection:
        """The connection upgraded within `timeout` seconds (else TimeoutError, the socket dropped);
        `on_message` gets each text message, `on_end` why the connection ended, once."""
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: _Protocol(on_message, on_end), host, port), timeout
        )
        key = base64.b64encode(os.urandom(16)).decode()
        assert protocol.transport is not None
        protocol.transport.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: mcp\r\n\r\n"
            ).encode()
        )
        try:
            await asyncio.wait_for(protocol.upgraded, timeout)
        except TimeoutError:
            protocol.transport.abort()
            raise TimeoutError(f"no answer to the upgrade within {timeout:g} s") from None
        except BaseException:
            protocol.transport.abort()
            raise
        return cls(protocol)

    def send(self, data: bytes) -> None:
        """One text frame, masked with the zero key (the payload unchanged)."""
        self._transport.write(client_frame(data))

    async def close(self) -> None:
        """A close (1000), then its answer or the end of the socket awaited for 2 s at most."""
        if not self._protocol.close_sent and not self._transport.is_closing():
            self._protocol.close_sent = True
            self._transport.write(close_frame())
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.lost), 2)
        except TimeoutError:
            self._transport.abort()
