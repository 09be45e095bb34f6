"""The WebSocket adapter both drivers share (`transports.websocket.core`), against a recording socket:
what a frame becomes, which close code each fault gets, and the bounded send queue."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import pytest

from mcpbind.aio.interfaces import BufferedTransport
from mcpbind.transports.websocket.core import (
    MESSAGE_TOO_BIG,
    NORMAL,
    POLICY_VIOLATION,
    UNSUPPORTED_DATA,
    Binary,
    WebSocketOptions,
    WebSocketServerTransport,
    refuse_subprotocol,
)


class Recording:
    """A socket whose sends wait while `gate` is closed (a client that does not read)."""

    def __init__(self, *incoming: str | bytes | None) -> None:
        """Text messages as str, binary ones as bytes (as a driver hands them over: `Binary`)."""
        self.incoming: deque[bytes | None] = deque(
            m.encode() if isinstance(m, str) else None if m is None else Binary(m) for m in incoming
        )
        self.sent: list[bytes] = []
        self.closed: list[tuple[int, str]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def receive(self) -> bytes | None:
        return self.incoming.popleft() if self.incoming else None

    async def send(self, data: bytes) -> None:
        await self.gate.wait()
        self.sent.append(data)

    def send_now(self, data: bytes) -> bool:
        if not self.gate.is_set():
            return False
        self.sent.append(data)
        return True

    async def close(self, code: int, reason: str) -> None:
        self.closed.append((code, reason))


def test_text_frames_are_messages_and_the_end_is_none() -> None:
    async def run() -> None:
        socket = Recording('{"jsonrpc":"2.0","id":1,"method":"ping"}', "é", None)
        transport = WebSocketServerTransport(socket, WebSocketOptions())
        assert await transport.read() == b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
        assert await transport.read() == "é".encode()
        assert await transport.read() is None
        assert socket.closed == []

    asyncio.run(run())


def test_binary_frame_closes_1003() -> None:
    async def run() -> None:
        socket = Recording(b"{}", "after")
        transport = WebSocketServerTransport(socket, WebSocketOptions())
        assert await transport.read() is None
        assert socket.closed[0][0] == UNSUPPORTED_DATA and "binary" in socket.closed[0][1]
        assert await transport.read() is None  # nothing more is read
        await transport.close()
        assert len(socket.closed) == 1  # closed once, with the code of the fault

    asyncio.run(run())


def test_oversized_message_closes_1009() -> None:
    async def run() -> None:
        socket = Recording("x" * 11, "x" * 10)
        transport = WebSocketServerTransport(socket, WebSocketOptions(max_message=10))
        assert await transport.read() is None
        code, reason = socket.closed[0]
        assert code == MESSAGE_TOO_BIG and "11 bytes" in reason and "(10)" in reason

    asyncio.run(run())


def test_writes_go_in_order_behind_a_waiting_send() -> None:
    async def run() -> None:
        socket = Recording()
        transport = WebSocketServerTransport(socket, WebSocketOptions())
        await transport.write(b"1")  # inline: no task
        assert socket.sent == [b"1"]
        socket.gate.clear()
        await transport.write(b"2")  # waits for the socket, in a task: the writer goes on
        await transport.write(b"3")
        await transport.write(b"4")
        assert socket.sent == [b"1"]
        socket.gate.set()
        for _ in range(100):
            if len(socket.sent) == 4:
                break
            await asyncio.sleep(0)
        assert socket.sent == [b"1", b"2", b"3", b"4"]
        await transport.write(b"5")
        assert socket.sent[-1] == b"5"
        await transport.close()
        assert socket.closed == [(NORMAL, "")]

    asyncio.run(run())


def test_a_client_that_does_not_read_is_closed_1008() -> None:
    async def run() -> None:
        socket = Recording()
        transport = WebSocketServerTransport(socket, WebSocketOptions(max_send_queue=100))
        reader = asyncio.ensure_future(asyncio.Event().wait())  # stands for the connection's read loop
        transport.on_overflow = reader
        socket.gate.clear()
        await transport.write(b"a" * 60)  # waits for the socket
        await transport.write(b"b" * 60)  # queued: 60 bytes
        assert transport.close_code is None
        await transport.write(b"c" * 50)  # 110 bytes queued: over the bound
        assert transport.close_code == POLICY_VIOLATION
        assert "does not read" in transport.close_reason
        with pytest.raises(asyncio.CancelledError):
            await reader
        await transport.write(b"d")  # dropped: the connection is over
        assert await transport.read() is None
        await transport.close()
        assert socket.closed == [(POLICY_VIOLATION, transport.close_reason)]
        assert socket.sent == []

    asyncio.run(run())


def test_close_reason_fits_a_close_frame() -> None:
    async def run() -> None:
        socket = Recording("é" * 100)
        transport = WebSocketServerTransport(socket, WebSocketOptions(max_message=10))
        await transport.close_with(MESSAGE_TOO_BIG, "é" * 100)
        assert len(socket.closed[0][1].encode()) <= 123

    asyncio.run(run())


def test_subprotocol() -> None:
    assert refuse_subprotocol([]) is None
    assert refuse_subprotocol(["mcp"]) is None
    assert refuse_subprotocol(["other", "mcp"]) is None
    refusal = refuse_subprotocol(["graphql-ws"])
    assert refusal is not None and refusal.status == 400 and b"mcp" in refusal.body


class Reading(Recording):
    """A `ReadingSocket`: what it read is taken with no coroutine, one text message at a time, and
    what it reads while its reader waits goes to the reader's inline service first."""

    def __init__(self, *incoming: str | bytes | None) -> None:
        super().__init__(*incoming)
        self.held = False
        self.serve: Any = None

    def take_message(self) -> bytes | None:
        if self.incoming and type(self.incoming[0]) is bytes:
            return self.incoming.popleft()
        return None

    def waiting(self) -> asyncio.Future[None] | None:
        return None if self.incoming else asyncio.get_running_loop().create_future()

    def hold_writes(self) -> None:
        self.held = True

    def release_writes(self) -> None:
        self.held = False

    def serve_inline(self, serve: Any) -> None:
        self.serve = serve


def test_a_reading_socket_is_read_and_written_with_no_coroutine() -> None:
    async def run() -> None:
        socket = Reading("a", "b", b"binary", "after")
        transport = WebSocketServerTransport(socket, WebSocketOptions())
        assert isinstance(transport, BufferedTransport)
        assert transport.wait_buffered() is None  # messages wait
        assert transport.read_buffered() == (b"a",)  # one at a time
        assert transport.read_buffered() == (b"b",)
        assert transport.read_buffered() == ()  # a binary message: `read` says what it is
        assert await transport.read() is None
        assert socket.closed[0][0] == UNSUPPORTED_DATA
        assert transport.read_buffered() == ()  # nothing after the close is taken
        assert transport.wait_buffered() is None
        assert transport.write_nowait(b"late") is True and socket.sent == []  # dropped, as `write` drops it

    asyncio.run(run())


def test_a_socket_says_whether_it_holds_what_is_sent_while_it_serves_inline() -> None:
    class Holding(Reading):
        holds_inline_writes = True

    async def run() -> None:
        assert WebSocketServerTransport(Recording(), WebSocketOptions()).holds_inline_writes is False
        assert WebSocketServerTransport(Reading(), WebSocketOptions()).holds_inline_writes is False
        assert WebSocketServerTransport(Holding(), WebSocketOptions()).holds_inline_writes is True

    asyncio.run(run())


def test_nothing_is_served_inline_once_serving_stopped() -> None:
    async def run() -> None:
        socket = Reading()
        transport = WebSocketServerTransport(socket, WebSocketOptions())
        transport.on_overflow = asyncio.current_task()  # the reader stops itself: read on to None
        served: list[Any] = []

        def serve(lines: Any) -> Any:
            served.extend(lines)
            return ()

        transport.serve_inline(serve)
        assert socket.serve is serve  # (handed the reader's service itself)
        assert socket.serve((b"1",)) == ()
        transport.hold_writes()
        assert socket.held
        transport.release_writes()
        assert transport.write_nowait(b"answer") is True and socket.sent == [b"answer"]
        transport.stop(POLICY_VIOLATION, "stopped")
        assert socket.serve is None  # nothing more is served inline (what it reads is queued)
        assert served == [b"1"]
        assert transport.read_buffered() == () and await transport.read() is None
        transport.serve_inline(serve)  # (the reader's next wait: still none)
        assert socket.serve is None

    asyncio.run(run())


def test_a_plain_socket_is_read_with_read() -> None:
    transport = WebSocketServerTransport(Recording("a"), WebSocketOptions())
    assert not hasattr(transport, "read_buffered") and not hasattr(transport, "write_nowait")
    transport.serve_inline(lambda lines: ())  # (nothing to serve inline: ignored)
