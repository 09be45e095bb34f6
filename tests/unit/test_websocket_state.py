"""The standalone WebSocket connection keeps what the library's state was after each call into it that
can change it (`live`, `sendable`), instead of asking the library on every read and write: these follow
it through the connection's life (open, writes paused and resumed, a close from the client, a text that
is not UTF-8, the end of the stream, a close from this side, the connection lost), and frames read here
honour the library's size limit at each length encoding (1009)."""

from __future__ import annotations

import asyncio
import json
import struct
from types import SimpleNamespace

import pytest
from websockets.protocol import State

from mcpbind.server import Server
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.websocket.core import WebSocketOptions, WebSocketServerTransport
from mcpbind.transports.websocket.standalone import Connection, Endpoint

from .test_websocket_frames_read import INIT, frames, masked, text
from .test_websocket_inline import UPGRADE, Collecting


class Pausing(Collecting):
    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def agrees(protocol: Connection) -> None:
    live = protocol.ws.state is State.OPEN and not protocol.lost.done()
    assert protocol.live is live
    assert protocol.sendable is (live and protocol.plain and protocol.writable is None and protocol.direct)


async def opened(
    options: WebSocketOptions | None = None, initialize: bool = True
) -> tuple[Connection, Pausing]:
    server = Server("t", "0")

    @server.tool()
    async def echo(text: str) -> str:
        return text

    endpoint = Endpoint(server, "/mcp", HttpSecurity(), options or WebSocketOptions(ping_interval=None))
    protocol = Connection(endpoint)
    transport = Pausing()
    protocol.connection_made(transport)
    agrees(protocol)
    protocol.data_received(UPGRADE)
    for _ in range(20):
        await asyncio.sleep(0)
    assert transport.writes[0].startswith(b"HTTP/1.1 101")
    agrees(protocol)
    assert protocol.live and protocol.sendable
    if not initialize:
        return protocol, transport
    protocol.data_received(text(INIT) + text({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    for _ in range(20):
        await asyncio.sleep(0)
    agrees(protocol)
    return protocol, transport


async def ended(protocol: Connection) -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    agrees(protocol)
    protocol.connection_lost(None)
    agrees(protocol)
    assert not protocol.live and not protocol.sendable
    assert protocol.task is not None
    await asyncio.wait_for(protocol.task, 10)


def closes(transport: Collecting) -> list[int]:
    written = b"".join(transport.writes[1:])
    return [struct.unpack("!H", payload[:2])[0] for op, payload in frames(written) if op == 0x8]


@pytest.mark.parametrize(
    "end",
    [
        masked(0x8, struct.pack("!H", 1000)),  # a close from the client
        masked(0x1, b'"\xff"'),  # a text that is not UTF-8 (read here: 1007)
        masked(0x1, b'"\xff"', fin=False) + masked(0x0, b'"'),  # (read by the library: 1007)
        masked(0x2, b"x"),  # binary: the adapter closes (1003)
        b"",  # the end of the stream
    ],
)
def test_the_state_kept_follows_the_library(end: bytes) -> None:
    async def run() -> None:
        protocol, _ = await opened()
        protocol.pause_writing()
        agrees(protocol)
        assert protocol.live and not protocol.sendable
        protocol.resume_writing()
        agrees(protocol)
        assert protocol.sendable
        if end:
            protocol.data_received(end)
        else:
            protocol.eof_received()
        agrees(protocol)
        for _ in range(20):
            await asyncio.sleep(0)
        agrees(protocol)
        assert not protocol.live
        await ended(protocol)

    asyncio.run(run())


def test_a_close_from_this_side() -> None:
    async def run() -> None:
        protocol, transport = await opened()
        protocol.going_away(1001, "going away")
        agrees(protocol)
        assert not protocol.live and closes(transport) == [1001]
        await ended(protocol)

    asyncio.run(run())


def ping(rid: int, size: int = 0) -> bytes:
    """A ping request of `size` bytes (padded in its `_meta`), or as short as it goes."""
    if not size:
        return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "ping"}).encode()
    base = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "ping", "params": {"_meta": {"pad": ""}}})
    message = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "ping",
        "params": {"_meta": {"pad": "x" * (size - len(base))}},
    }
    return json.dumps(message).encode()


@pytest.mark.parametrize("size", [100, 125, 126, 300, 65535, 65536])
def test_the_size_limit_of_frames_read_here(size: int) -> None:
    """A message of exactly `max_message` bytes is served; one byte more ends the connection (1009),
    in a frame of each length encoding."""

    async def run(over: bool) -> None:
        options = WebSocketOptions(ping_interval=None, max_message=size)
        protocol, transport = await opened(options, initialize=False)
        message = ping(1, size + over)
        assert len(message) == size + over
        # (in a callback of the loop, as a socket's reads come: served there, as read)
        asyncio.get_running_loop().call_soon(
            protocol.data_received, masked(0x1, ping(2)) + masked(0x1, message)
        )
        for _ in range(20):
            await asyncio.sleep(0)
        agrees(protocol)
        written = b"".join(transport.writes[1:])
        ids = [json.loads(payload)["id"] for op, payload in frames(written) if op == 0x1]
        # (before `initialize`, the ping read with the one over the limit is not served inline: its
        # answer comes after the close, and is not sent)
        assert ids == ([] if over else [2, 1])
        assert closes(transport) == ([1009] if over else [])
        assert protocol.live is not over
        await ended(protocol)

    asyncio.run(run(False))
    asyncio.run(run(True))


@pytest.mark.parametrize("size", [125, 126, 127, 300, 65535, 65536])
@pytest.mark.parametrize("kind", ["ascii", "utf8", "bad", "reserved", "over"])
def test_a_read_of_one_frame(size: int, kind: str) -> None:
    """A read that is one whole text frame (the usual one at one request in flight, cut apart from
    the rest when its length is in two bytes) is served as one in a read with others: a text in UTF-8
    that is not ASCII too; one that is not UTF-8 ends the connection (1007), one with a reserved bit
    set is the library's to refuse (1002), one over the limit ends it (1009)."""

    async def run() -> None:
        options = WebSocketOptions(ping_interval=None, max_message=size - (kind == "over"))
        # (`initialize` is longer than the smallest limits: a ping is served before it too, though
        # not inline; after it, inline, as the usual read is)
        protocol, transport = await opened(options, initialize=size >= 300)
        message = ping(7, size)
        if kind == "utf8":
            message = message.replace(b"xx", "\u00e9".encode(), 1)  # (two bytes for two)
            assert not message.isascii() and len(message) == size
        elif kind == "bad":
            message = message.replace(b"xx", b"\xff\xfe", 1)
        frame = masked(0x1, message)
        if kind == "reserved":
            frame = bytes((frame[0] | 0x40,)) + frame[1:]
        before = len(transport.writes)
        asyncio.get_running_loop().call_soon(protocol.data_received, frame)
        for _ in range(20):
            await asyncio.sleep(0)
        agrees(protocol)
        written = b"".join(transport.writes[before:])
        ids = [json.loads(payload)["id"] for op, payload in frames(written) if op == 0x1]
        served = kind in ("ascii", "utf8")
        assert ids == ([7] if served else [])
        code = {"bad": 1007, "reserved": 1002, "over": 1009}.get(kind)
        assert closes(transport) == ([] if code is None else [code])
        assert protocol.live is served
        await ended(protocol)

    asyncio.run(run())


def test_writes_go_straight_to_the_connection_while_nothing_waits() -> None:
    """The adapter's `write_nowait` is the connection's own while no write waits for the socket and
    serving goes on; a write that waits (the client does not read) sends those after it through the
    adapter, behind it, until all are sent; once serving stops, writes are dropped."""

    async def run() -> None:
        protocol, transport = await opened(initialize=False)
        adapter = WebSocketServerTransport(protocol, WebSocketOptions(ping_interval=None))
        assert adapter.write_nowait == protocol.write_nowait and protocol.direct
        before = len(transport.writes)
        protocol.pause_writing()
        assert adapter.write_nowait(b'"1"')  # waits for the socket
        assert not protocol.direct and not protocol.sendable
        assert adapter.write_nowait(b'"2"') and adapter.write_nowait(b'"3"')  # behind it
        protocol.resume_writing()
        for _ in range(20):
            await asyncio.sleep(0)
        assert protocol.direct and protocol.sendable
        agrees(protocol)
        assert adapter.write_nowait(b'"4"')
        for _ in range(20):
            await asyncio.sleep(0)
        payloads = [p for op, p in frames(b"".join(transport.writes[before:])) if op == 0x1]
        assert payloads == [b'"1"', b'"2"', b'"3"', b'"4"']
        adapter.stop(1008, "stopped")
        assert not protocol.direct and not protocol.sendable
        written = len(transport.writes)
        assert adapter.write_nowait(b'"5"')  # dropped
        for _ in range(20):
            await asyncio.sleep(0)
        assert len(transport.writes) == written
        agrees(protocol)
        await ended(protocol)

    asyncio.run(run())


def test_a_connection_keeps_its_state_in_slots() -> None:
    """No instance dictionary, uvicorn's connection included: what each read and write reads of the
    connection is a slot, and its own methods are called as such (the state followed as above)."""
    from mcpbind.transports.websocket.uvicorn_protocol import UvicornConnection

    async def run() -> None:
        protocol, _ = await opened()
        assert not hasattr(protocol, "__dict__")
        endpoint = protocol.endpoint
        other = UvicornConnection(endpoint, SimpleNamespace(connections=set(), tasks=set()))
        assert not hasattr(other, "__dict__")
        await ended(protocol)

    asyncio.run(run())


@pytest.mark.parametrize("size", [0, 2, 90, 124, 125])
@pytest.mark.parametrize("kind", ["ascii", "utf8", "bad", "reserved", "unmasked", "fragment"])
def test_a_read_of_one_short_frame(size: int, kind: str) -> None:
    """A read that is one whole text frame of 0-125 bytes, while the reader waits after `initialize`
    (the usual read of a short request): served at once, a text in UTF-8 that is not ASCII too (an
    empty text, or one that is no JSON, answered as JSON-RPC says: -32700); one not UTF-8 ends the
    connection (1007), one with a reserved bit set or unmasked is the library's to refuse (1002), the
    first fragment of a message waits for the rest (none comes: no answer)."""

    async def run() -> None:
        protocol, transport = await opened()
        message = ping(7, size) if size >= 90 else b"{" * size
        if kind == "utf8" and size:
            message = message.replace(b"xx", "\u00e9".encode(), 1) if size >= 90 else "\u00e9".encode()
        elif kind == "bad" and size:
            message = message[:-1] + b"\xff"
        assert len(message) == size
        frame = masked(0x1, message, fin=kind != "fragment")
        if kind == "reserved":
            frame = bytes((frame[0] | 0x40,)) + frame[1:]
        elif kind == "unmasked":
            frame = bytes((frame[0], frame[1] & 0x7F)) + message
        before = len(transport.writes)
        asyncio.get_running_loop().call_soon(protocol.data_received, frame)
        for _ in range(20):
            await asyncio.sleep(0)
        agrees(protocol)
        written = b"".join(transport.writes[before:])
        answers = [json.loads(payload) for op, payload in frames(written) if op == 0x1]
        code = {"bad": 1007 if size else None, "reserved": 1002, "unmasked": 1002}.get(kind)
        assert closes(transport) == ([] if code is None else [code])
        if code is not None or kind == "fragment":
            assert answers == []
        elif size >= 90:
            assert [a.get("id") for a in answers] == [7]
        else:
            assert [(a.get("id"), a["error"]["code"]) for a in answers] == [(None, -32700)]
        assert protocol.live is (code is None)
        await ended(protocol)

    asyncio.run(run())
