"""The WebSocket server adapter both drivers share: frames in and out of a `Peer`, limits, close codes.

A driver (ASGI under uvicorn, or the standalone `websockets` server) turns its connection into a
`Socket` (text or binary messages in, text frames out, close); `serve_socket` runs one `Connection`
on it, exactly as stdio runs one on a pipe: one session per connection for the stateful revisions,
and 2026-07-28 requests served by the version their `_meta` names. Nothing here imports a
WebSocket library, so the ASGI driver needs none.

What breaks the transport's rules ends the connection with a close code that says why (RFC 6455
7.4.1); what breaks JSON-RPC's (a text that is not JSON, a bad envelope) is answered with a
JSON-RPC error and the connection goes on, as over stdio.

The access token is checked once, at the upgrade; a connection does not outlive it: when the token's
`exp` passes, the connection ends with 1008 "the access token has expired" (the client connects again
with a fresh token).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, cast

from ...aio import eager
from ...aio.interfaces import InlineServe
from ...protocol.inbound import INVALID_REQUEST, Rejection, error_body

if TYPE_CHECKING:
    from ...server import Server

__all__ = [
    "SUBPROTOCOL",
    "NORMAL",
    "PROTOCOL_ERROR",
    "UNSUPPORTED_DATA",
    "INVALID_DATA",
    "POLICY_VIOLATION",
    "MESSAGE_TOO_BIG",
    "INTERNAL_ERROR",
    "WebSocketOptions",
    "Binary",
    "ReadingSocket",
    "DirectSocket",
    "Socket",
    "WebSocketServerTransport",
    "serve_socket",
    "refuse_subprotocol",
]

log = logging.getLogger("mcpbind.websocket")

SUBPROTOCOL: Final = "mcp"
"""The subprotocol SEP-1288 and the TypeScript SDK's `WebSocketClientTransport` ask for."""

# Close codes (RFC 6455 7.4.1), each for one kind of fault.
NORMAL: Final = 1000
PROTOCOL_ERROR: Final = 1002  # a frame the WebSocket protocol forbids (the library closes with it)
UNSUPPORTED_DATA: Final = 1003  # a binary frame: MCP messages are text (SEP-1288)
INVALID_DATA: Final = 1007  # a text frame that is not UTF-8 (the library closes with it)
POLICY_VIOLATION: Final = 1008  # the client does not read what it is sent; its access token expired
MESSAGE_TOO_BIG: Final = 1009  # a message over `max_message`
INTERNAL_ERROR: Final = 1011  # the server failed (a bug): nothing the client did


@dataclass(frozen=True)
class WebSocketOptions:
    """The limits of a WebSocket connection; the defaults suit a public server."""

    max_message: int = 4 * 1024 * 1024
    """Bytes of one message from the client (as `HttpSecurity.max_body` for a POST); over it the
    connection is closed with 1009."""
    max_send_queue: int = 16 * 1024 * 1024
    """Bytes of messages waiting for a client that does not read (beyond what the socket buffers);
    over it the connection is closed with 1008, so that a slow reader cannot grow memory."""
    ping_interval: float | None = 20.0
    """Seconds between keep-alive pings (None: none). Under uvicorn its own `ws_ping_interval`
    applies instead (ASGI has no pings; `run_http`'s own connection follows uvicorn's too)."""
    ping_timeout: float | None = 20.0
    """Seconds a pong may take before the connection is dropped (uvicorn: `ws_ping_timeout`)."""
    close_timeout: float = 5.0
    """Seconds the closing handshake may take before the connection is dropped."""


class Binary(bytes):
    """A binary message, as a driver hands it over (text comes as plain `bytes`)."""

    __slots__ = ()


class Socket(Protocol):
    """One accepted WebSocket connection, as a driver presents it."""

    async def receive(self) -> bytes | None:
        """The next message: the UTF-8 of a text message (the driver checked it is UTF-8), a
        `Binary` for a binary one; None once closed."""
        ...

    async def send(self, data: bytes) -> None:
        """Send `data` (UTF-8 JSON) as one text frame; waits while the client does not read."""
        ...

    def send_now(self, data: bytes) -> bool:
        """Send as `send` does if that needs no wait (True), else do nothing (False: use `send`)."""
        ...

    async def close(self, code: int, reason: str) -> None: ...


class ReadingSocket(Socket, Protocol):
    """A `Socket` that reads on its own, in the loop's callbacks (the standalone server's connection,
    and so `run_http`'s): what it read can be taken with no coroutine, what is sent held for one write
    at the end of a step, and what it reads while its reader waits served right there. Its
    `WebSocketServerTransport` is then a `BufferedTransport`, `WriteHolding` and `InlineServing` as
    stdio's is, and a `Peer` serves it as it serves stdio: at one request in flight, no task is woken
    and no coroutine made for a call of a plain tool."""

    def take_message(self) -> bytes | None:
        """The oldest message read, if it is text (None: none waits, or it is anything else, which
        `receive` hands over)."""
        ...

    def waiting(self) -> asyncio.Future[None] | None:
        """A future done once a message is read or the connection ends, while none waits and it is
        open; None otherwise (`take_message`, then `receive`, says what there is)."""
        ...

    def hold_writes(self) -> None:
        """Until `release_writes`, frames sent wait for that call, with no write scheduled."""
        ...

    def release_writes(self) -> None:
        """Write the frames sent since `hold_writes`, and write as usual again."""
        ...

    def serve_inline(self, serve: InlineServe | None) -> None:
        """Hand each text message read while the reader waits (`waiting`), with nothing queued, to
        `serve` first, as it is read (None: no more, not even the rest of a read `serve` is given:
        nothing read after the message whose handler ended serving is served)."""
        ...


class DirectSocket(ReadingSocket, Protocol):
    """A `ReadingSocket` that frames and sends what is written to its transport itself, with no call
    through the transport (the standalone server's connection), while the transport says it may."""

    def direct_writes(self, direct: bool, diverted: Callable[[bytes], bool]) -> None:
        """Whether `write_nowait` may send on its own (else it hands each write to `diverted`, the
        transport's own): none waits to be sent, and serving goes on."""
        ...

    def write_nowait(self, data: bytes) -> bool:
        """The transport's `write_nowait`: sent now if it needs no wait, else what `diverted` does."""
        ...


def _nothing() -> None:
    """`hold_writes` and `release_writes` of a transport over a socket that cannot hold its writes."""


def refuse_subprotocol(offered: list[str]) -> Rejection | None:
    """A client that offers subprotocols must offer `mcp` (one that offers none is taken as MCP)."""
    if not offered or SUBPROTOCOL in offered:
        return None
    why = f"Bad request: this endpoint speaks the WebSocket subprotocol {SUBPROTOCOL!r}, not {offered}"
    return Rejection(400, error_body(INVALID_REQUEST, why))


class WebSocketServerTransport:
    """The `MessageTransport` of one WebSocket connection: text frames in, text frames out.

    A write never waits for the client: while a frame waits for the socket (full), later ones
    queue here, bounded by `max_send_queue` bytes; past that the client is taken not to read, and
    the connection ends with 1008 (its reader is stopped through `on_overflow`).

    Over a `ReadingSocket`, it is also a `BufferedTransport`, `WriteHolding` and `InlineServing`
    (`read_buffered`, `wait_buffered`, `write_nowait`; `hold_writes`, `release_writes`; `serve_inline`),
    one message at a time: each is taken only while nothing ended serving (`stop` from a handler run
    by the reader, a fault's close), so that nothing read after that is served."""

    hold_writes: Callable[[], None] = staticmethod(_nothing)
    """Frames sent wait for `release_writes` (the reader's, over a `ReadingSocket`; else nothing)."""
    release_writes: Callable[[], None] = staticmethod(_nothing)
    holds_inline_writes = False
    """What is sent while a read is served inline waits for the end of that read (`InlineHolding`):
    as the socket's class says, over a `ReadingSocket`."""

    def __init__(self, socket: Socket, options: WebSocketOptions) -> None:
        self.socket = socket
        self._send_now = socket.send_now
        self.options = options
        self.close_code: int | None = None
        """The code this side closed the connection with (None: it did not)."""
        self.close_reason = ""
        self._pending: deque[bytes] = deque()
        self._pending_bytes = 0
        self._sender: asyncio.Task[None] | None = None
        """Sending what could not be sent inline (None: nothing waits for the socket)."""
        self._closed = False
        self._close_sent = False
        self.on_overflow: asyncio.Task[None] | None = None
        """The task reading this connection, cancelled when the send queue overflows (or `stop`)."""
        self.stopped = False
        """Serving was stopped by this side (`stop`): the reader's cancellation is ours."""
        self._inline = False
        """Messages are served inline (`serve_inline`): the socket is told when serving ends."""
        if hasattr(type(socket), "take_message"):  # (a `ReadingSocket`)
            reading = cast(ReadingSocket, socket)
            self._take, self._waiting = reading.take_message, reading.waiting
            self.hold_writes, self.release_writes = reading.hold_writes, reading.release_writes
            self.holds_inline_writes = getattr(type(socket), "holds_inline_writes", False) is True
            # (instance members: a `Peer` takes a transport that has them for a `BufferedTransport`)
            self.read_buffered: Callable[[], Collection[bytes]] = self._read_buffered
            self.wait_buffered: Callable[[], asyncio.Future[None] | None] = self._wait_buffered
            self.write_nowait: Callable[[bytes], bool] = self._write_nowait
            if hasattr(type(socket), "direct_writes"):  # (a `DirectSocket`)
                # Its own `write_nowait` while nothing waits to be sent and serving goes on (`_route`):
                # the usual answer framed with no call through this one.
                direct = cast(DirectSocket, socket)
                self._direct: Callable[[bool, Callable[[bytes], bool]], None] | None = direct.direct_writes
                self.write_nowait = direct.write_nowait
                direct.direct_writes(True, self._write_nowait)

    _direct: Callable[[bool, Callable[[bytes], bool]], None] | None = None
    """A `DirectSocket`'s `direct_writes` (None: another socket's writes all come through here)."""

    def _route(self) -> None:
        """Tell a `DirectSocket` whether writes may go to it straight: none waits, serving goes on."""
        if self._direct is not None:
            self._direct(not self._closed and self._sender is None, self._write_nowait)

    def _read_buffered(self) -> Collection[bytes]:
        """The next text message read, if serving goes on (empty: none, or `read` says what)."""
        if self._closed:
            return ()
        message = self._take()
        return () if message is None else (message,)

    def _wait_buffered(self) -> asyncio.Future[None] | None:
        return None if self._closed else self._waiting()

    def _write_nowait(self, data: bytes) -> bool:
        """What `write` does, which never waits: sent, queued behind a send that waits, or dropped
        once closed."""
        if not self._closed:
            if self._sender is not None:  # a frame waits for the socket: this one waits behind it
                self._queue(data)
            # The usual case: sent at once. Should the socket be full, the send goes on in a task and
            # the writer goes on at once (a handler never waits for a slow client; the queue bounds it).
            elif not self._send_now(data):
                self._sender = eager.start(self._send(data))
                self._route()
        return True

    def serve_inline(self, serve: InlineServe | None) -> None:
        """`InlineServing` over a `ReadingSocket` (else nothing is served inline): each message goes
        to `serve` only while serving goes on (see the class): the socket is handed `serve` itself,
        and None as serving ends (`_end`), which also ends the service of a read under way."""
        if hasattr(type(self.socket), "serve_inline"):
            self._inline = serve is not None
            cast(ReadingSocket, self.socket).serve_inline(None if self._closed else serve)

    def _end(self) -> None:
        """Serving ends: nothing more is taken, and nothing read is served inline any more."""
        self._closed = True
        self._route()
        if self._inline:
            self._inline = False
            cast(ReadingSocket, self.socket).serve_inline(None)

    async def read(self) -> bytes | None:
        if self._closed:
            return None
        message = await self.socket.receive()
        if message is None:
            self._end()
        elif isinstance(message, Binary):
            await self.close_with(UNSUPPORTED_DATA, "binary frames are not supported: send JSON-RPC as text")
        elif len(message) <= self.options.max_message:
            return message
        else:
            limit = self.options.max_message
            await self.close_with(
                MESSAGE_TOO_BIG, f"a message of {len(message)} bytes is over the limit ({limit})"
            )
        return None

    async def write(self, data: bytes) -> None:
        self._write_nowait(data)

    def _queue(self, data: bytes) -> None:
        size = self._pending_bytes + len(data)
        if size > self.options.max_send_queue:
            self._overflow(size)
            return
        self._pending.append(data)
        self._pending_bytes = size

    async def _send(self, data: bytes) -> None:
        """Send `data`, then whatever queued meanwhile."""
        try:
            await self.socket.send(data)
            while self._pending and not self._closed:
                data = self._pending.popleft()
                self._pending_bytes -= len(data)
                await self.socket.send(data)
        except Exception:  # the client left: what is still to send has no one to go to
            self._end()
        finally:
            self._sender = None
            self._route()

    def _overflow(self, size: int) -> None:
        """The client does not read: drop what waits, and stop serving it (the close follows)."""
        self.stop(POLICY_VIOLATION, f"the client does not read: {size} bytes to send, over the limit")
        log.warning("closing a WebSocket connection: %s (%d)", self.close_reason, self.options.max_send_queue)

    def stop(self, code: int, reason: str) -> None:
        """Stop serving the connection at once: drop what waits to be sent and cancel its reader (with
        the handlers it runs); the close with `code` follows (`serve_socket`)."""
        self._end()
        self.stopped = True
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._pending.clear()
        self._pending_bytes = 0
        if self._sender is not None:
            self._sender.cancel()
        if self.on_overflow is not None and self.on_overflow is not asyncio.current_task():
            self.on_overflow.cancel()  # (the reader itself, running a handler inline, reads None next)

    async def close_with(self, code: int, reason: str) -> None:
        """Close the connection with `code` (once; bounded by `close_timeout`)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._end()
        await self._send_close(code, reason)

    async def _send_close(self, code: int, reason: str) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        # A reason is at most 123 bytes in a close frame.
        reason = reason.encode()[:123].decode(errors="ignore")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.socket.close(code, reason), self.options.close_timeout)

    async def close(self) -> None:
        """The connection is served: close it normally, or with the code a fault already chose."""
        if self._sender is not None and not self._closed:  # what is queued goes first, for a while
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._sender), self.options.close_timeout)
        if self.close_code is None:
            self.close_code = NORMAL
        self._end()
        await self._send_close(self.close_code, self.close_reason)


async def serve_socket(
    server: Server, socket: Socket, options: WebSocketOptions, expires_at: float | None = None
) -> WebSocketServerTransport:
    """Serve one accepted connection until it closes; a failure of the server closes it with 1011.
    `expires_at` (seconds since the epoch: the access token's `exp`) ends it with 1008 then."""
    transport = WebSocketServerTransport(socket, options)
    loop = asyncio.get_running_loop()
    reader = loop.create_task(server.serve(transport))
    transport.on_overflow = reader
    expiry = None
    if expires_at is not None:
        delay = max(0.0, expires_at - time.time())
        expiry = loop.call_later(delay, transport.stop, POLICY_VIOLATION, "the access token has expired")
    try:
        await reader
    except asyncio.CancelledError:
        if not transport.stopped:
            raise  # this task was cancelled (the server stops), not the reader by `stop`
        await transport.close()
    except Exception:
        log.exception("a WebSocket connection failed")
        await transport.close_with(INTERNAL_ERROR, "internal error")
    finally:
        if expiry is not None:
            expiry.cancel()
    return transport
