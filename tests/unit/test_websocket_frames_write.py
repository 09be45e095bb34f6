"""The standalone WebSocket connection writes its text frames itself while the library's state is open
(no extension, no frame logged): byte for byte what the library's `send_text` writes, for each length
encoding (7, 16 and 64 bits); control frames the library makes in between (a ping, a close) go after
the text frames made before them, and the library's state stays its own (closing after a close; no text
frame made once it is not open)."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
from websockets.protocol import State
from websockets.server import ServerProtocol

from mcpbind.server import Server
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.websocket import standalone
from mcpbind.transports.websocket.core import WebSocketOptions
from mcpbind.transports.websocket.standalone import Connection, Endpoint

from .test_websocket_frames_read import frames, masked
from .test_websocket_inline import UPGRADE, Collecting

SIZES = [0, 5, 125, 126, 300, 65535, 65536, 70_000]


def library_frame(data: bytes) -> bytes:
    ws = ServerProtocol()
    ws.receive_data(UPGRADE)
    (request,) = ws.events_received()
    ws.send_response(ws.accept(request))
    ws.data_to_send()
    ws.send_text(data)
    return b"".join(ws.data_to_send())


async def opened() -> tuple[Connection, Collecting]:
    endpoint = Endpoint(Server("t", "0"), "/mcp", HttpSecurity(), WebSocketOptions(ping_interval=None))
    protocol = Connection(endpoint)
    transport = Collecting()
    protocol.connection_made(transport)
    protocol.data_received(UPGRADE)
    for _ in range(20):
        await asyncio.sleep(0)
    assert transport.writes[0].startswith(b"HTTP/1.1 101") and protocol.plain
    transport.writes.clear()
    return protocol, transport


async def closed(protocol: Connection) -> None:
    protocol.connection_lost(None)
    assert protocol.task is not None
    await protocol.task


@pytest.mark.parametrize("size", SIZES)
def test_a_text_frame_is_what_the_library_writes(size: int) -> None:
    data = bytes(ord("a") + i % 26 for i in range(size))

    async def run() -> None:
        protocol, transport = await opened()
        assert protocol.send_now(data)
        protocol._flush()
        assert b"".join(transport.writes) == library_frame(data)
        await closed(protocol)

    asyncio.run(run())


@pytest.mark.parametrize("size", SIZES)
def test_a_text_frame_written_straight_is_what_the_library_writes(size: int) -> None:
    """The adapter's writes, framed by `write_nowait` (twice: a head made, then one kept)."""
    data = bytes(ord("a") + i % 26 for i in range(size))

    async def run() -> None:
        protocol, transport = await opened()
        assert protocol.sendable
        for _ in range(2):
            assert protocol.write_nowait(data)
            protocol._flush()
            assert b"".join(transport.writes) == library_frame(data)
            transport.writes.clear()
        await closed(protocol)

    asyncio.run(run())


def test_the_heads_of_frames_kept_up_to_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standalone, "_HEADS_KEPT", 3)
    heads = standalone._Heads()
    for n in (126, 300, 65535, 1000, 126, 1000):
        assert heads[n] == struct.pack("!BBH", 0x81, 126, n)
    assert sorted(heads) == [126, 300, 65535]


def test_control_frames_keep_their_order_and_the_library_its_state() -> None:
    async def run() -> None:
        protocol, transport = await opened()
        ws = protocol.ws
        assert protocol.send_now(b"one") and protocol.send_now(b"x" * 300)
        protocol._ping()  # (the keep-alive's ping: written with what was made before it)
        assert protocol.send_now(b"y" * 70_000) and protocol.send_now(b"two")
        protocol.going_away(1000, "bye")  # (the close: written after what was made before it)
        assert ws.state is State.CLOSING
        assert not protocol.send_now(b"late")  # (not open: no frame made, here or by the library)
        protocol._flush()
        got = frames(b"".join(transport.writes))
        assert [op for op, _ in got] == [0x1, 0x1, 0x9, 0x1, 0x1, 0x8]
        assert [payload for op, payload in got if op == 0x1] == [b"one", b"x" * 300, b"y" * 70_000, b"two"]
        assert got[-1][1] == b"\x03\xe8bye"
        assert ws.state is State.CLOSING and ws.data_to_send() == []
        if protocol.timer is not None:
            protocol.timer.cancel()
        await closed(protocol)

    asyncio.run(run())


@pytest.mark.parametrize("size", [1, 125, 126, 300])
def test_a_read_of_one_frame_whose_handler_ends_serving(size: int) -> None:
    """A read of one whole text frame goes to the reader's service alone; if its handler ends
    serving, the next read is not served (queued for the reader), and what it wrote is written."""

    async def run() -> None:
        protocol, transport = await opened()
        served: list[bytes] = []

        def serve(lines: Any) -> Any:
            assert len(lines) == 1
            served.append(lines[0])
            protocol.write_nowait(b'"answer"')  # (its answer, then serving ends)
            protocol.serve_inline(None)
            return ()

        first, second = b"1" * size, b"2" * size
        protocol.serve_inline(serve)
        protocol.data_received(masked(0x1, first))
        assert served == [first] and protocol.serving is None
        assert [p for op, p in frames(b"".join(transport.writes))] == [b'"answer"']
        protocol.data_received(masked(0x1, second))
        assert served == [first] and list(protocol.messages) == [second]
        await closed(protocol)

    asyncio.run(run())


def test_a_burst_is_served_in_one_call_and_nothing_after_serving_ends() -> None:
    """The text messages of one read go to the reader's service together; if a handler ends serving
    (the adapter's `stop`: `serve_inline(None)`), nothing after its message is served."""

    async def run() -> None:
        protocol, _ = await opened()
        assert protocol.waiter is not None and not protocol.waiter.done()  # (the reader waits)
        served: list[bytes] = []
        calls: list[int] = []

        def serve(lines: Any) -> Any:  # (as the reader's inline service: one by one, oldest first)
            calls.append(len(lines))
            for line in lines:
                served.append(line)
                if line == b"2":
                    protocol.serve_inline(None)  # its handler ended serving
            return ()

        def read(*texts: bytes) -> None:
            protocol.data_received(b"".join(masked(0x1, text) for text in texts))

        protocol.serve_inline(serve)
        read(b"0", b"1")
        assert calls == [2] and served == [b"0", b"1"]
        read(b"2", b"3", b"4")
        assert served == [b"0", b"1", b"2"] and protocol.serving is None
        read(b"5")  # (no service: queued for the reader)
        assert served == [b"0", b"1", b"2"] and list(protocol.messages) == [b"5"]
        await closed(protocol)

    asyncio.run(run())
