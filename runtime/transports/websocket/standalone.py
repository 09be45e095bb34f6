"""The MCP endpoint on an asyncio server of its own, where no ASGI server is wanted (`mcpbind[ws]`).

    server.run_websocket(host="127.0.0.1", port=8000)     # ws://127.0.0.1:8000/mcp

Each TCP connection is an `asyncio.Protocol` over the `websockets` library's sans-I/O protocol
(`ServerProtocol`: HTTP upgrade, framing, masking, close handshake, the size limit), so that frames go
from `data_received` to the connection's reader with no task or future between them, and the frames
written in one turn of the event loop leave in one system call, as over stdio. The upgrade request is
checked as a POST to `HttpApp` is (`HttpSecurity`: Host, Origin, the bearer token) and must be for
the MCP path; the subprotocol is `mcp`. The connection is then served by the adapter both drivers
share (`core`). Keep-alive: a ping every `ping_interval`, the connection dropped (1011) when its pong
is `ping_timeout` late. A client that does not read makes `send` wait (`pause_writing`), and the
adapter's bounded queue ends it; one that sends faster than it is served stops being read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from struct import Struct
from struct import pack as _pack
from struct import unpack_from as _unpack_from
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from websockets.datastructures import Headers
from websockets.extensions import ServerExtensionFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader
from websockets.typing import Subprotocol

try:
    from websockets.speedups import apply_mask as _apply_mask
except ImportError:  # (a build without its C helper: the library's own fallback)
    from websockets.utils import apply_mask as _apply_mask

from ...aio.interfaces import InlineServe
from ...protocol.inbound import Rejection, screen
from ...protocol.request_state import CALLER, PRINCIPAL
from ..http.security import HttpSecurity, authenticate, principal_text, refuse
from .core import (
    INTERNAL_ERROR,
    INVALID_DATA,
    SUBPROTOCOL,
    Binary,
    WebSocketOptions,
    refuse_subprotocol,
    serve_socket,
)

if TYPE_CHECKING:
    from ...server import Server

__all__ = ["Endpoint", "Connection", "start", "serve_forever"]

log = logging.getLogger("mcpbind.websocket")

_REASONS: Final = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
_OPEN_TIMEOUT: Final = 10.0
"""Seconds from the TCP connection to a complete upgrade request."""
_QUEUE_HIGH, _QUEUE_LOW = 64, 16
"""Messages read ahead of the server: reading stops above the first, resumes below the second."""
_FLUSH_AT: Final = 64 * 1024
"""Bytes of frames written at once at most (more in one turn of the loop go out as they come)."""
_SHORT: Final = tuple(bytes((0x81, n)) for n in range(126))
"""The head of a text frame (final, unmasked) of each length under 126 bytes."""
_HEAD16: Final = Struct("!BBH").pack
"""The head of a text frame of 126 to 65535 bytes: `_HEAD16(0x81, 126, n)` (over: `_head`)."""
_HEADS_KEPT: Final = 4096
"""Heads of distinct lengths `_HEADS` keeps at most (about 0.5 MB)."""


class _Heads(dict[int, bytes]):
    """The head of a text frame (final, unmasked) of each length of 126 to 65535 bytes, `_HEADS[n]`,
    made on first use and kept (the first `_HEADS_KEPT` lengths met): a lookup, where packing it
    took about a thousand instructions a frame."""

    __slots__ = ()

    def __missing__(self, n: int) -> bytes:
        head = _HEAD16(0x81, 126, n)
        if len(self) < _HEADS_KEPT:
            self[n] = head
        return head


_HEADS: Final = _Heads()
_HEAD_IN: Final = Struct("!HH").unpack_from
"""The first four bytes of a read as two numbers: 0x81FE (final, text, no reserved bit; masked, a 16-bit
length follows) and that length, the read's less 8, when it is one whole such frame (`data_received`)."""
_HEAD7_IN: Final = Struct("!H").unpack_from
"""The first two bytes of a read as one number: `_ONE_SHORT` more than the read's length when it is one
whole final text frame, masked, with no reserved bit and a 7-bit length (0x80 + 0-125: 0xFD at most)."""
_ONE_SHORT: Final = 0x8180 - 6
_CUT16: Final = (slice(4, 8), slice(8, None))
"""Where the mask and the text are in a read of one frame with a 16-bit length (`data_received`)."""
_CUT7: Final = (slice(2, 6), slice(6, None))
"""The same with a 7-bit length."""
_NONE: Final[list[bytes]] = []
"""What the library has to send when it has nothing (never added to: read only)."""
_AT_EOF: Final = StreamReader.at_eof.__code__
"""Where the library's frame parser waits between two frames (`_between_frames`)."""


class Endpoint:
    """What every connection of one listening server shares (uvicorn's: see `uvicorn_protocol`)."""

    def __init__(
        self,
        server: Server,
        path: str,
        security: HttpSecurity,
        options: WebSocketOptions,
        extensions: Sequence[ServerExtensionFactory] = (),
    ) -> None:
        self.server = server
        self.path = path.rstrip("/")
        self.security = security
        self.options = options
        self.extensions = list(extensions)
        """What the library may negotiate (none: no per-message compression)."""
        self.connections: set[Connection] = set()


def _unconnected(data: bytes) -> None:
    """`Connection.write` before the connection is made: nothing is written yet (none is made)."""


def _head(n: int) -> bytes:
    """The head of a text frame (final, unmasked) of `n` bytes, 65536 or more."""
    return _pack("!BBQ", 0x81, 127, n)


def _between_frames(ws: ServerProtocol) -> bool:
    """Whether the library's parser waits for the first byte of a frame, all it was given read: the
    next frame may be read without it (`Connection.data_received`). Not in a fragmented message."""
    if ws.reader.buffer or ws.current_size is not None:
        return False
    inner: Any = ws.parser
    inner = getattr(inner.gi_yieldfrom, "gi_yieldfrom", None)  # (the server's parse, then the frames')
    return getattr(inner, "gi_code", None) is _AT_EOF


def _select(protocol: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    # `mcp` when offered; a client that offers no subprotocol is served too (the upgrade check
    # refused one that offers others only).
    return Subprotocol(SUBPROTOCOL) if SUBPROTOCOL in offered else None


def _response(rejection: Rejection) -> Response:
    headers = Headers([("Content-Type", "application/json"), ("Connection", "close")])
    for name, value in rejection.headers:
        headers[name.decode("latin-1")] = value.decode("latin-1")
    headers["Content-Length"] = str(len(rejection.body))
    return Response(rejection.status, _REASONS.get(rejection.status, "Refused"), headers, rejection.body)


class Connection(asyncio.Protocol):
    """One TCP connection: its upgrade, then its frames; a `core.Socket` once open.

    `started` and the `asyncio.Protocol` methods are where a subclass hooks in (uvicorn's
    bookkeeping of its connections and tasks: `uvicorn_protocol`)."""

    holds_inline_writes: ClassVar[bool] = True
    """What is sent while a read is served inline (`serve_inline`) is written at the end of that read
    (`reading`), held or not (`InlineHolding`)."""

    # Slots: past 30 attributes CPython 3.11 gives an instance a dictionary, each read of its state a
    # lookup there and each call of a method of its own looked up anew (no specialised call).
    __slots__ = (
        "between",
        "cut",
        "direct",
        "diverted",
        "endpoint",
        "flush_soon",
        "fragmented_text",
        "fragments",
        "frames",
        "held",
        "limit",
        "live",
        "loop",
        "lost",
        "messages",
        "options",
        "plain",
        "reading",
        "reading_paused",
        "sendable",
        "serve",
        "serving",
        "short",
        "task",
        "timer",
        "transport",
        "unflushed",
        "waiter",
        "whole",
        "writable",
        "write",
        "ws",
    )

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.options = endpoint.options
        self.ws = ServerProtocol(
            select_subprotocol=_select, max_size=self.options.max_message, extensions=endpoint.extensions
        )
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.write: Callable[[bytes], object] = _unconnected
        """The transport's `write` (`_flush`), once connected."""
        self.messages: deque[bytes] = deque()
        self.fragments: list[bytes] = []
        self.fragmented_text = False
        self.waiter: asyncio.Future[None] | None = None
        self.writable: asyncio.Future[None] | None = None  # set while the transport is paused
        self.lost: asyncio.Future[None] = self.loop.create_future()
        self.flush_soon: asyncio.Handle | None = None  # the write of this turn's frames, when due
        self.unflushed = 0  # bytes of frames made since the last write
        self.reading_paused = False
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None  # the open, ping, pong or close deadline
        self.held = False  # frames sent wait for `release_writes` (the reader's step)
        self.reading = False  # frames sent wait for the end of `_events` (served inline)
        self.plain = False
        """Text frames are made here (`send_now`, `_frame_out`): open, with no extension negotiated
        (per-message compression) and no frame logged (the library's debug log)."""
        self.cut = False
        """Text frames are read here while the library's parser waits between frames (`data_received`):
        plain, and a library that keeps the state read (its version's `current_size`, `max_message_size`)."""
        self.between = False
        """The library's parser waits between frames (`_between_frames`), as it did when last given data:
        a read all cut here leaves it so, and the next one need not ask it again."""
        self.frames: list[bytes] = []
        """Text frames made here and not yet written (ahead of the library's own: `_flush`)."""
        self.live = False
        """The library's state is OPEN and the connection not lost, as they were after the last call
        into the library that can change its state (`_sync`: it changes in no other way)."""
        self.sendable = False
        """A text frame is made here and sent with no wait (`send_now`, `write_nowait`): live, plain, the
        transport takes writes (not paused), and the adapter sends straight here (`direct`)."""
        self.direct = True
        """The adapter's writes may come straight to `write_nowait` (`direct_writes`): part of `sendable`."""
        self.diverted: Callable[[bytes], bool] = self.send_now
        """Where `write_nowait` hands a write it does not send itself (the adapter's own `write_nowait`)."""
        self.limit = 0
        """The library's size limit, for `data_received` (none: one that no frame's length is over)."""
        self.whole = 0
        """The longest read that may be one whole text frame with a 16-bit length, read at once by
        `data_received` (`cut`: 8 bytes of head and the size limit's bytes, at most 65535; else 0)."""
        self.short = 0
        """The same with a 7-bit length (`cut`: 6 bytes of head and the size limit's, at most 125)."""
        self.serve: InlineServe | None = None
        """The reader's own service of a message read while it waits (`serve_inline`)."""
        self.serving: list[bytes] | None = None
        """The messages of a read `serve` is serving (`data_received`), emptied if serving ends meanwhile."""

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's is one, not by inheritance)
        self.write = self.transport.write
        self.endpoint.connections.add(self)
        self.timer = self.loop.call_later(_OPEN_TIMEOUT, self.transport.abort)

    def _sync(self) -> None:
        """What the library's state is now, after a call into it that may have changed it."""
        self.live = live = self.ws.state is State.OPEN and not self.lost.done()
        self.sendable = live and self.plain and self.writable is None and self.direct

    def data_received(self, data: bytes) -> None:
        """Each text message of `data` from its start is cut here, as the library's parser would hand
        it over (frame by frame: final, masked, no reserved bit, within the size limit, UTF-8), while
        the library's parser waits between frames, the connection open and plain, up to the first
        frame that is anything else or not all read yet: that frame and the rest go to the library's
        parser. Nothing here but a text that is not UTF-8 changes the connection's state; the messages
        cut are handed on together (served inline, or queued), before anything the library reads
        after them, and what they made is written at the end of the read (`_read`)."""
        # The usual read at one in flight: one whole text frame, served at once (its mask and text
        # where `cut` says: a frame of 126-65535 bytes, or one of 0-125, as the first bytes say).
        size = len(data)
        if size >= 134:
            head, n = _HEAD_IN(data)
            cut = _CUT16 if head == 0x81FE and n + 8 == size and size <= self.whole else None
        else:
            cut = (
                _CUT7
                if size <= self.short and size >= 6 and _HEAD7_IN(data)[0] - size == _ONE_SHORT
                else None
            )
        if (
            cut is not None
            and self.between
            and self.live
            and (serve := self.serve) is not None
            and (waiter := self.waiter) is not None
            and not waiter.done()
            and not self.messages
        ):
            mask, payload = cut
            text = _apply_mask(data[payload], data[mask])
            if text.isascii():  # (else read below, as any other)
                # (between frames still; `serving` not set: the only message of the read is the one
                # served, so no rest of it is left to end the service of)
                self.reading = True
                try:
                    left = serve((text,))
                finally:
                    self.reading = False
                if left:
                    self.messages.extend(cast("Sequence[bytes]", left))
                    self._wake()
                elif (frames := self.frames) and not self.ws.writes and self.flush_soon is None and self.live:
                    # (its answer written, as below; nothing was queued meanwhile: none is read)
                    self.frames = []
                    self.unflushed = 0
                    self.write(frames[0] if len(frames) == 1 else b"".join(frames))
                    return
                self._read()
                return
        if not (self.cut and self.live and (self.between or _between_frames(self.ws))):
            self.between = False
            self.ws.receive_data(data)
            self._sync()
            self._events()
            return
        limit = self.limit
        self.between = self.reading = True
        start = 0
        try:
            texts = []
            bad = None  # (a text that is not UTF-8: the connection fails once those before it are handed on)
            while size - start >= 6:
                if data[start] != 0x81:
                    break  # (not a final text frame with no reserved bit)
                length = data[start + 1] - 0x80
                if length < 126:
                    if length < 0:
                        break  # (not masked)
                    at = start + 2
                elif length == 126:  # (its two bytes are there: at least six are)
                    length, at = data[start + 2] << 8 | data[start + 3], start + 4
                elif size - start < 14:
                    break
                else:
                    length, at = _unpack_from("!Q", data, start + 2)[0], start + 10
                end = at + 4 + length
                if end > size or length > limit:
                    break
                text = _apply_mask(data[at + 4 : end], data[at : at + 4])
                start = end
                # Text goes on as the bytes it came in, once known to be UTF-8 (ASCII is: no decoding).
                if not text.isascii():
                    try:
                        text.decode()
                    except UnicodeDecodeError as exc:
                        bad = exc
                        break
                texts.append(text)
            if texts:
                # Handed on as `_message` hands each: served at once while the reader waits with
                # nothing queued (all of them in one call, from the first; `serve` gives back what
                # it leaves, from the first it cannot serve there), else queued.
                serve, messages = self.serve, self.messages
                if (
                    serve is not None
                    and not messages
                    and (waiter := self.waiter) is not None
                    and not waiter.done()
                ):
                    self.serving = texts
                    try:
                        left = serve(texts)
                    finally:
                        self.serving = None
                    if left:
                        messages.extend(cast("Sequence[bytes]", left))
                        self._wake()
                else:
                    messages.extend(texts)
                    self._wake()
            if bad is not None:  # (those before it were served, as they were read first)
                self.ws.fail(INVALID_DATA, f"{bad.reason} at position {bad.start}")
                self._sync()
        finally:
            self.reading = False
        if start < size:  # (a frame the library reads, from its first byte)
            self.between = False
            self.ws.receive_data(data[start:] if start else data)
            self._sync()
            self._events()
        elif (
            (frames := self.frames)
            and not self.ws.writes
            and self.flush_soon is None
            and not self.messages
            and self.live
        ):  # (`_read`'s usual case, inline: the answers served inline written, and nothing else to do)
            self.frames = []
            self.unflushed = 0
            self.write(frames[0] if len(frames) == 1 else b"".join(frames))
        else:
            self._read()  # (nothing for the library: no events to take from it)

    def eof_received(self) -> bool | None:
        self.between = False
        self.ws.receive_eof()
        self._sync()
        self._events()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.endpoint.connections.discard(self)
        if self.timer is not None:
            self.timer.cancel()
        if not self.lost.done():
            self.lost.set_result(None)
        self.live = self.sendable = False
        self._wake()
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    def pause_writing(self) -> None:
        self.writable = self.loop.create_future()
        self.sendable = False
        # The client reads nothing of ours: read nothing of its until it does. Each of its pings
        # is answered with a pong at once, so a ping flood from a client that does not read would
        # otherwise pile pongs up in the transport without bound.
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.writable = None
        self._sync()
        if not self.reading_paused and self.transport is not None:  # (else `receive` resumes it)
            self.transport.resume_reading()

    # -- frames in ----------------------------------------------------------------------------------

    def _events(self) -> None:
        # The answers of the messages served inline go out with the rest, in one write at the end.
        self.reading = True
        try:
            for event in self.ws.events_received():
                if isinstance(event, Frame):
                    self._frame(event)
                elif isinstance(event, Request):
                    if self.timer is not None:
                        self.timer.cancel()
                    self.started(self.loop.create_task(self._serve(event)))
        finally:
            self.reading = False
        self._read()

    def _read(self) -> None:
        """The end of a read: what it made written, reading paused if the server is behind."""
        frames = self.frames
        if frames and not self.ws.writes and self.flush_soon is None:  # (`_flush`'s usual case)
            self.frames = []
            self.unflushed = 0
            self.write(frames[0] if len(frames) == 1 else b"".join(frames))
        else:
            self._flush()  # answers served inline, pongs, the answer to a close, an error's close
        if len(self.messages) >= _QUEUE_HIGH and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        if not self.live:
            self._wake()

    def _frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if not frame.fin:
                self.fragments, self.fragmented_text = [bytes(frame.data)], opcode is Opcode.TEXT
                return
            self._message(opcode is Opcode.TEXT, bytes(frame.data))
        elif opcode is Opcode.CONT:
            self.fragments.append(bytes(frame.data))
            if frame.fin:
                data, self.fragments = b"".join(self.fragments), []
                self._message(self.fragmented_text, data)
        elif opcode is Opcode.PONG and self.ws.state is State.OPEN:
            self._keepalive()

    def _message(self, text: bool, data: bytes) -> None:
        if not text:
            self.messages.append(Binary(data))
        else:
            # Text goes on as the bytes it came in, once known to be UTF-8 (ASCII is: no decoding).
            if not data.isascii():
                try:
                    data.decode()
                except UnicodeDecodeError as exc:
                    self.ws.fail(INVALID_DATA, f"{exc.reason} at position {exc.start}")
                    self._sync()
                    return
            serve = self.serve
            if serve is not None and not self.messages:
                waiter = self.waiter
                if waiter is not None and not waiter.done() and self.ws.state is State.OPEN:
                    # The reader waits with nothing queued: it serves the message right here, with
                    # no future set and no task woken for it, unless it cannot (then it is queued).
                    if not serve((data,)):
                        return
            self.messages.append(data)
        self._wake()

    def started(self, task: asyncio.Task[None]) -> None:
        """The task serving the upgrade (then the connection) was started."""
        self.task = task

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- bytes out ----------------------------------------------------------------------------------

    def _flush_due(self) -> None:
        self.flush_soon = None
        self._flush()

    def _flush(self) -> None:
        if self.flush_soon is not None:  # written now: the write planned for later has nothing to do
            self.flush_soon.cancel()
            self.flush_soon = None
        self.unflushed = 0
        frames = self.frames
        if frames and not self.ws.writes:  # (the usual: text frames made here, and nothing else)
            self.frames = []
            self.write(frames[0] if len(frames) == 1 else b"".join(frames))
            return
        transport = self.transport
        if transport is None:
            return
        # (the library's own list of what it made, read first: `data_to_send` is not called for nothing)
        writes = self.ws.data_to_send() if self.ws.writes else _NONE
        if frames:
            # Ours go first: each was made while the connection was open, so before any close frame
            # or end of stream the library has since queued (a pong may go after a text frame made
            # later than it: control frames may come between any two messages).
            self.frames = []
            if writes:
                frames += writes
            writes = frames
        elif not writes:
            return
        if writes[-1]:
            transport.write(b"".join(writes) if len(writes) > 1 else writes[0])
            return
        # The end of the stream (after the close handshake, or a refused upgrade): send and close.
        transport.write(b"".join(writes))
        transport.close()

    # -- the upgrade and serving --------------------------------------------------------------------

    async def _serve(self, request: Request) -> None:
        endpoint = self.endpoint
        refusal, principal = await self._check(request)
        if refusal is not None:
            self.ws.send_response(_response(refusal))
            self._flush()
            return
        response = self.ws.accept(request)
        self.ws.send_response(response)
        self._flush()
        if response.status_code != 101:
            return
        self.plain = not self.ws.extensions and not self.ws.debug
        self.cut = self.plain and all(hasattr(self.ws, n) for n in ("current_size", "max_message_size"))
        if self.cut:
            limit = self.ws.max_message_size
            self.limit = 1 << 64 if limit is None else limit
            self.whole = min(self.limit, 65535) + 8
            self.short = min(self.limit, 125) + 6
        self._sync()
        self._keepalive()
        token = caller = None
        if principal is not None:
            token = PRINCIPAL.set(principal_text(principal[0]))
            caller = CALLER.set(principal[1])
        try:
            expires_at = getattr(principal[1], "expires_at", None) if principal is not None else None
            await serve_socket(endpoint.server, self, self.options, expires_at)
        except asyncio.CancelledError:
            await self.close(1001, "the server is going away")
            raise
        except Exception:
            log.exception("a WebSocket connection failed")
            await self.close(INTERNAL_ERROR, "internal error")
        finally:
            if token is not None:
                PRINCIPAL.reset(token)
            if caller is not None:
                CALLER.reset(caller)

    async def _check(self, request: Request) -> tuple[Rejection | None, Any]:
        """The same checks as a POST to `HttpApp`, on the same header values."""
        endpoint = self.endpoint
        if request.path.split("?", 1)[0].rstrip("/") != endpoint.path:
            return Rejection(404, b"Not Found"), None
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.raw_items()]
        headers = {k: v.decode("latin-1").strip(" \t") for k, v in raw}
        offered = [p.strip() for v in request.headers.get_all("Sec-WebSocket-Protocol") for p in v.split(",")]
        read = dict(raw)
        refusal = screen(read, raw) or refuse(endpoint.security, read) or refuse_subprotocol(offered)
        if refusal is not None or not endpoint.security.authenticates:
            return refusal, None
        scope: dict[str, Any] = {"headers": raw, "mcpbind.headers": headers}
        refusal = await authenticate(endpoint.security, scope)
        return refusal, (scope.get("mcpbind.principal"), scope.get("mcpbind.caller"))

    def _keepalive(self) -> None:
        """(Re)arm the next ping; a pong came, or the connection just opened."""
        if self.timer is not None:
            self.timer.cancel()
        if self.options.ping_interval is not None:
            self.timer = self.loop.call_later(self.options.ping_interval, self._ping)

    def _ping(self) -> None:
        if self.ws.state is not State.OPEN:
            return
        self.ws.send_ping(os.urandom(4))
        self._flush()
        if self.options.ping_timeout is not None:
            self.timer = self.loop.call_later(self.options.ping_timeout, self._pong_late)

    def _pong_late(self) -> None:
        if self.ws.state is State.OPEN:
            self.ws.fail(INTERNAL_ERROR, "keepalive ping timeout")
            self._sync()
            self._flush()
        if self.transport is not None:
            self.transport.abort()

    def going_away(self, code: int, reason: str) -> None:
        """Close the connection now, for a server that stops: the reader reads None next."""
        if self.ws.state is State.OPEN:
            self.ws.send_close(code, reason)
            self._sync()
            self._flush()
        elif self.ws.state is State.CONNECTING and self.transport is not None:
            self.transport.close()  # (an upgrade not answered yet: no WebSocket to close)
        self._wake()

    # -- core.Socket --------------------------------------------------------------------------------

    async def receive(self) -> bytes | None:
        messages = self.messages
        while not messages:
            if self.flush_soon is not None:  # the answers to all that was read go now, before waiting
                self._flush()
            if not self.live:
                return None
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if self.reading_paused and len(messages) <= _QUEUE_LOW:
            self._resume()
        return messages.popleft()

    def _resume(self) -> None:
        if self.transport is not None:
            self.reading_paused = False
            if self.writable is None:  # (else `resume_writing` resumes it)
                self.transport.resume_reading()

    def take_message(self) -> bytes | None:
        messages = self.messages
        if not messages or type(messages[0]) is not bytes:
            return None  # (none, or a binary message: `receive` hands it over)
        if self.reading_paused and len(messages) <= _QUEUE_LOW:
            self._resume()
        return messages.popleft()

    def waiting(self) -> asyncio.Future[None] | None:
        if self.messages or not self.live:
            return None
        if self.flush_soon is not None:  # the answers to all that was read go now, before waiting
            self._flush()
        waiter = self.waiter = self.loop.create_future()
        return waiter

    def hold_writes(self) -> None:
        self.held = True

    def release_writes(self) -> None:
        self.held = False
        if not self.reading and self.unflushed:
            self._flush()

    def serve_inline(self, serve: InlineServe | None) -> None:
        self.serve = serve
        if serve is None and self.serving is not None:
            self.serving.clear()  # (the service of a read under way ends: nothing more of it is served)

    async def send(self, data: bytes) -> None:
        if self.writable is not None:
            await self.writable  # the client does not read: the adapter queues behind this
        if not self.live:
            raise ConnectionError("the WebSocket connection is closed")
        self._frame_out(data)

    def direct_writes(self, direct: bool, diverted: Callable[[bytes], bool]) -> None:
        self.direct, self.diverted = direct, diverted
        self._sync()

    def write_nowait(self, data: bytes) -> bool:
        if not self.sendable:  # (not plain, a write waits or could, serving ended: the adapter's way)
            return self.diverted(data)
        # `send_now`'s usual case, inline (every answer: no call through the adapter)
        n = len(data)
        self.frames.append((_SHORT[n] if n < 126 else _HEADS[n] if n < 65536 else _head(n)) + data)
        unflushed = self.unflushed = self.unflushed + n
        if unflushed > _FLUSH_AT:
            self._flush()
        elif not (self.reading or self.held or self.flush_soon is not None):
            self.flush_soon = self.loop.call_soon(self._flush_due)
        return True

    def send_now(self, data: bytes) -> bool:
        # (Off the usual path: while the adapter's writes come straight to `write_nowait`, which
        # makes the frame itself, this takes only what it hands on.)
        if self.writable is not None or not self.live:  # (`send` waits, or says the connection is closed)
            return False
        self._frame_out(data)
        return True

    def _frame_out(self, data: bytes) -> None:
        if self.plain:
            # What the library's `send_text` makes of it (an unmasked, unfragmented text frame),
            # made here: its frame object, serializer and checks were a sixth of a call's work.
            n = len(data)
            self.frames.append((_SHORT[n] if n < 126 else _HEADS[n] if n < 65536 else _head(n)) + data)
        else:
            self.ws.send_text(data)
        self.unflushed += len(data)
        if self.unflushed > _FLUSH_AT:  # a handler that writes much before it yields: write it now
            self._flush()
        elif self.flush_soon is None and not self.held and not self.reading:  # this turn's: one write
            self.flush_soon = self.loop.call_soon(self._flush_due)

    async def close(self, code: int, reason: str) -> None:
        if self.ws.state is State.OPEN:
            self.ws.send_close(code, reason)
            self._sync()
            self._flush()
        try:
            await asyncio.wait_for(asyncio.shield(self.lost), self.options.close_timeout)
        except TimeoutError:  # no answer to the close: the connection is dropped
            if self.transport is not None:
                self.transport.abort()
        except asyncio.CancelledError:
            if self.transport is not None:
                self.transport.abort()
            raise


async def start(
    server: Server,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    path: str = "/mcp",
    security: HttpSecurity | None = None,
    options: WebSocketOptions | None = None,
) -> tuple[asyncio.Server, set[Connection]]:
    """Listen on `host:port` and serve `ws://host:port{path}` (port 0: any free port, see the
    server's `.sockets`); the open connections are the set returned with it."""
    endpoint = Endpoint(server, path, security or HttpSecurity(), options or WebSocketOptions())
    listening = await asyncio.get_running_loop().create_server(lambda: Connection(endpoint), host, port)
    return listening, endpoint.connections


async def serve_forever(server: Server, host: str = "127.0.0.1", port: int = 8000, **kwargs: Any) -> None:
    """`start`, then serve until cancelled; the connections open then are closed (1001)."""
    listening, connections = await start(server, host, port, **kwargs)
    try:
        await listening.serve_forever()
    finally:
        listening.close()
        tasks = [c.task for c in connections if c.task is not None]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
