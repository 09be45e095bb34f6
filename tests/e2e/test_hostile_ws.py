"""The WebSocket server against a client that floods it with pings while reading nothing: the pongs
it owes must not pile up without bound (the server stops reading a client that does not read), and
the connection is served again once the client reads. On the two drivers whose frames mcpbind
handles (its own server and uvicorn's `ws` protocol class); under uvicorn's ASGI WebSocket layer the
pongs are uvicorn's.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ..http_support import SERVERS, serve

SCRIPT = str(SERVERS / "websocket.py")
TIMEOUT = 30.0
FLOOD = 64 << 20
"""Bytes of pings a client may try to send: far more than the socket buffers on both sides hold."""
BOUND = 24 << 20
"""What the server may have read of them before it stops reading: the kernel's buffers and its own
transport's high-water mark, not all of the flood."""


@contextmanager
def connected(*args: str) -> Iterator[socket.socket]:
    """An upgraded raw connection to the test server (2025-11-25, initialized)."""
    with serve(SCRIPT, *args) as http_url:
        host, port = http_url.removeprefix("http://").split("/")[0].split(":")
        sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                f"GET /mcp HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(1)  # byte by byte: nothing past the head is taken
            assert head.startswith(b"HTTP/1.1 101"), head
            yield sock
        finally:
            sock.close()


def frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (FIN, masked with a zero key: the payload goes as it is)."""
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    else:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", size)
    return head + b"\0\0\0\0" + payload


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    first, second = exactly(2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", exactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", exactly(8))[0]
    return first & 0x0F, exactly(size)


def request(rid: int, method: str, params: dict[str, object] | None = None) -> bytes:
    message: dict[str, object] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        message["params"] = params
    return frame(0x1, json.dumps(message).encode())


@pytest.mark.parametrize("driver", [("--standalone",), ()], ids=["standalone", "uvicorn"])
def test_a_ping_flood_from_a_client_that_reads_nothing_is_bounded(driver: tuple[str, ...]) -> None:
    with connected(*driver) as sock:
        client = {"name": "t", "version": "0"}
        sock.sendall(
            request(
                0, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": client}
            )
        )
        opcode, answer = read_frame(sock)
        assert opcode == 0x1 and json.loads(answer)["id"] == 0
        sock.sendall(frame(0x1, b'{"jsonrpc":"2.0","method":"notifications/initialized"}'))

        pings = memoryview(frame(0x9, b"p" * 125) * 4096)
        pending, sent = pings, 0  # (`pending`: the rest of a batch sent in part, so frames stay whole)
        sock.settimeout(10)  # once the server no longer reads, sending stalls
        while sent < FLOOD:
            try:
                done = sock.send(pending)
            except TimeoutError:
                break
            sent += done
            pending = pending[done:] or pings
        assert sent < BOUND, f"the server read {sent} bytes of pings from a client that reads nothing"

        # The client reads again: the server reads again, its pongs come, then the answer.
        sock.settimeout(TIMEOUT)
        seen: list[bytes] = []

        def drain() -> None:
            while True:
                opcode, payload = read_frame(sock)
                if opcode == 0x1:
                    seen.append(payload)
                    return

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        sock.sendall(pending)
        sock.sendall(request(1, "ping"))
        reader.join(TIMEOUT * 2)
        assert seen and json.loads(seen[0]) == {"jsonrpc": "2.0", "id": 1, "result": {}}
