"""One keep-alive HTTP/1.1 client connection and the response read from it: the asyncio protocol whose
httptools callbacks fill in the response as it arrives, flow control for bodies nobody reads yet, and
`Response` (the whole body, raw chunks, or lines). `http11.HttpClient` pools these connections.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Final, cast

import httptools

from ...aio.deadlines import Deadlines, Expiry
from ...aio.outgoing import future_maker

__all__ = [
    "HIGH_WATER",
    "READ_SIZE",
    "Http11Connection",
    "HttpError",
    "Response",
    "ResponseTooLarge",
    "read_buffer",
]

HIGH_WATER: Final = 1 << 20
"""Bytes of unread body after which reading from the socket pauses."""

READ_SIZE: Final = 256 * 1024
"""The most one read from the socket takes (asyncio's own size for a read of a plain `Protocol`)."""

_NAMES: dict[bytes, str] = {}
"""Header names as read off the wire, and as the client's headers dict holds them (in lower case):
every answer repeats the same few, whose decoding and lowering this spares."""
_MAX_NAMES: Final = 256
"""Names remembered at most (then forgotten all at once: a server that makes up names costs a look-up
per header, and no more memory than this and `_MAX_NAME` allow)."""
_MAX_NAME: Final = 64
"""The longest name remembered."""
UNCOUNTED: Final = 0
"""`Http11Connection.counting`: the head's headers are not counted against the limits (the bytes
of it read so far cannot hold too many, nor too long ones)."""
COUNTED: Final = 1
"""Counted: `headers_left` and `header_bytes_left` are what the head may still take."""
STALE: Final = 2
"""Counted from the next header on, once `_recount` has counted those read (uncounted) before."""


def _lowered(name: bytes) -> str:
    """A header name the first time it is read (then found in `_NAMES`)."""
    key = name.decode("latin-1").lower()
    if len(name) <= _MAX_NAME:
        if len(_NAMES) >= _MAX_NAMES:
            _NAMES.clear()
        _NAMES[name] = key
    return key


def read_buffer() -> memoryview:
    """A buffer the socket is read into, for connections on one event loop to share (`Http11Connection`):
    each read is parsed, and what the response keeps copied out, before the loop reads another socket."""
    return memoryview(bytearray(READ_SIZE))


class HttpError(Exception):
    """The connection failed, closed before the response was complete, or the response was no HTTP."""


class ResponseTooLarge(HttpError):
    """A response went over one of the client's limits: its head, its body, or a line of it. What is
    over the limit is not read: the connection is closed."""


class Http11Connection(asyncio.BufferedProtocol):
    """One keep-alive connection; the httptools callbacks fill in the response being read.

    A buffered protocol: the socket is read into `buffer` (the pool's, shared by its connections), not
    into a new bytes object per read. A plain `Protocol` costs a 256 KiB allocation per read, which
    glibc serves by mmap, mremap and munmap (two page faults: ~20 us of system time per answer) unless
    the process happened to free a larger block before (its mmap threshold then rises): a cost that
    came and went with the size of the modules imported at start-up, invisible to instruction counts.

    Slots: the attributes are read and set several times per answer, and are more than an instance's
    dict keeps its fast layout for (30).
    """

    __slots__ = (
        "answering",
        "body",
        "buffer",
        "buffered",
        "closed",
        "complete",
        "counting",
        "deadlines",
        "ended",
        "error",
        "expiry",
        "fields",
        "head_bytes",
        "head_done",
        "header_bytes_left",
        "headers_left",
        "interim",
        "keep_alive",
        "key",
        "max_header_bytes",
        "max_headers",
        "new_future",
        "news",
        "on_body",
        "on_message_begin",
        "parser",
        "paused",
        "repeated",
        "sent_at",
        "started",
        "status",
        "taking",
        "tick",
        "transport",
        "unchecked_bytes",
        "waiter",
    )

    def __init__(
        self,
        max_header_bytes: int,
        max_headers: int,
        deadlines: Deadlines | None = None,
        buffer: memoryview | None = None,
    ) -> None:
        self.transport: asyncio.Transport | None = None
        self.key: tuple[str, str, int] = ("", "", 0)  # the pool's: (scheme, host, port)
        self.buffer = buffer if buffer is not None else read_buffer()
        # Read timeouts from timers shared with the client's other connections (one per request costs).
        self.deadlines = deadlines if deadlines is not None else Deadlines()
        self.expiry: Expiry | None = None  # the queue of the last timeout waited with
        self.new_future: Callable[[], asyncio.Future[None]] | None = None  # the loop's, once waited
        # Every message the parser begins takes the next tick (a C call, no Python frame): the tick
        # after the answer's end (`ended`) tells whether another message began in the same read, even
        # one whose status line is all that came (no other callback sees that).
        self.tick: Callable[[], int] = itertools.count().__next__
        self.on_message_begin = self.tick  # (read by the parser when it is made: set first)
        self.ended = -1
        # The body's pieces, appended by the parser itself (a C call per piece, no Python frame): the
        # same list for the connection's life, as the parser keeps its `append` from when it is made.
        self.body: list[bytes] = []
        self.on_body = self.body.append
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        # A header line takes at least 4 bytes ("a:" and CRLF) and at least its name and value: while
        # a head's bytes read so far are no more than this, its headers are within both limits.
        self.unchecked_bytes = min(max_header_bytes, 4 * max_headers)
        self.sent_at = 0.0
        """The loop's time (its read timeouts' clock) as the last POST of `HttpClient.post_idle`'s with
        a read timeout went out: what the request it carries counts its own deadline from."""
        self.reset()

    def reset(self) -> None:
        self.status = 0
        self.fields: dict[str, bytes] = {}
        """The head's headers as read: names in lower case, values as sent (decoded by `headers`,
        when asked: the client itself reads one or two of them, as bytes)."""
        self.repeated: dict[str, list[bytes]] | None = None  # values of repeated headers, joined once
        self.head_bytes = 0  # bytes received before the head was complete
        # What the head may still take (counted down per header: one comparison each with 0)
        self.headers_left = self.max_headers
        self.header_bytes_left = self.max_header_bytes
        self.counting = UNCOUNTED
        self.body.clear()
        self.buffered = 0  # bytes of `body` (counted as each read is parsed)
        self.started = False  # a byte of this response came
        self.head_done = False
        self.interim = False  # the message being parsed is an interim (1xx) response, not the answer
        self.complete = False
        self.keep_alive = False
        self.news = False  # a callback of this read found more for the reader: woken once it is parsed
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.taking: Callable[[Http11Connection, asyncio.Future[None]], None] | None = None
        """Called in place of waking `waiter` (once: cleared first) when a read brought more, or the
        body ended with the connection: the client's taker of the usual answer, which resolves the
        request's own future (the `waiter`) with its result, or wakes it to take the rest on."""
        self.answering: object = None
        """What `taking` answers (the client's: the request's id, or None)."""
        self.paused = False

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's TCPTransport is no subclass of asyncio.Transport.
        self.transport = cast("asyncio.Transport", transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        # httptools hands every callback a copy (bytes): the buffer is free again once this returns.
        if self.complete:
            # Bytes after the answer (on an idle connection, with no request outstanding): nothing
            # asked for them, so what the server says on this connection can no longer be trusted.
            self.close()
            return
        self.started = True
        if not self.counting and self.head_bytes + nbytes > self.unchecked_bytes:
            self._recount()  # (the head may go over a limit in this read: its headers counted)
        body = self.body
        pieces = len(body)
        try:
            self.parser.feed_data(self.buffer[:nbytes])
        except httptools.HttpParserError as exc:
            if len(body) != pieces:
                self._bodied(pieces)
            if self.news:  # what was read before the error (a head, say) is the reader's first
                self._wake()
            if not self.complete:  # (else bytes after the answer: `_after_answer` says why)
                self._fail(HttpError(f"malformed HTTP response: {exc}"))  # (unless a limit did)
            self.close()
            return
        grown = len(body) - pieces
        if grown:
            # (`_bodied`, inline: nearly every answer; one piece, nearly always)
            self.buffered += len(body[-1]) if grown == 1 else sum(map(len, body[pieces:]))
            self.news = True
            if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
                self.paused = True
                self.transport.pause_reading()
        if self.complete and self.tick() != self.ended + 1:
            # A message began after the answer, in the same read (`_after_answer`), with none of its
            # headers yet: the answer stands; the connection is not used again.
            self.keep_alive = False
        if self.news:
            # Once per read, not per callback: a whole answer in one read wakes its reader once.
            # (`_wake`, inline: every read.)
            self.news = False
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                taking = self.taking
                if taking is None:
                    waiter.set_result(None)
                else:
                    self.taking = None
                    taking(self, waiter)
        if not self.head_done:
            # Counted here too: a header line that never ends reaches no callback. A head within the
            # limits takes at most this much with its status line, separators and line ends.
            self.head_bytes += nbytes
            if self.head_bytes > self.max_header_bytes + 4 * self.max_headers + 8192:
                over = f"{self.max_header_bytes} bytes of headers"
                self._fail(ResponseTooLarge(f"the response head exceeds the limit of {over}"))
                self.close()

    def eof_received(self) -> bool | None:
        return None  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if (
            self.head_done
            and not self.complete
            and "content-length" not in self.fields
            and (b"chunked" not in self.fields.get("transfer-encoding", b"").lower())
        ):
            self.complete = True  # a body delimited by the end of the connection
            self._wake()
        elif not self.complete:
            self._fail(HttpError(f"the connection closed before the response was complete ({exc or 'EOF'})"))

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        # (Counted only where the head may be over a limit, `counting`: a small head, nearly every
        # one, is not, and counting was most of what a header cost.)
        if self.counting:
            if self.counting == STALE:
                self._recount()
            # (A header after the answer finds `headers_left` below 0, as `on_message_complete`
            # leaves it: `_head_too_large` then tells it from a head over the limits. One test
            # fewer per header.)
            count = self.headers_left = self.headers_left - 1
            size = self.header_bytes_left = self.header_bytes_left - len(name) - len(value)
            if (count | size) < 0:  # (either below 0: so is the bitwise or of the two)
                self._head_too_large()
        try:  # (a subscript, not `get`: no method call per header; a name read before, nearly always)
            key = _NAMES[name]
        except KeyError:
            key = _lowered(name)
        fields = self.fields
        if key not in fields:
            fields[key] = value
        else:
            if self.repeated is None:
                self.repeated = {}
            self.repeated.setdefault(key, [fields[key]]).append(value)

    def _recount(self) -> None:
        """Count the headers read uncounted (`fields`, `repeated`) against the limits, and those
        read from now on (`counting`): what `on_header` would have counted had it counted each."""
        count = size = 0
        repeated = self.repeated or {}
        for key, value in self.fields.items():
            values = repeated.get(key)
            if values is None:
                count += 1
                size += len(key) + len(value)
            else:
                count += len(values)
                size += len(key) * len(values) + sum(map(len, values))
        self.headers_left = self.max_headers - count
        self.header_bytes_left = self.max_header_bytes - size
        self.counting = COUNTED

    def _head_too_large(self) -> None:
        if self.complete:
            self._after_answer()
        over = (
            f"{self.max_headers} headers"
            if self.headers_left < 0
            else f"{self.max_header_bytes} bytes of headers"
        )
        error = ResponseTooLarge(f"the response head exceeds the limit of {over}")
        self._fail(error)
        raise error  # stops the parser; buffer_updated closes the connection

    def on_headers_complete(self) -> None:
        if self.complete:
            self._after_answer()
        status = self.parser.get_status_code()
        if status < 200 and status != 101:
            # An interim response (100 Continue, 103 Early Hints): not the answer, which follows it on
            # the same connection. Its headers are let go of (still counted against the head's limits,
            # so a server cannot send them for ever); the answer's own head is read next.
            self.interim = True
            if self.counting != COUNTED:  # (its headers count against the answer's head)
                self._recount()
            self.fields = {}
            self.repeated = None
            return
        if self.repeated is not None:  # values of a repeated header, joined once, in the order sent
            for key, values in self.repeated.items():
                self.fields[key] = b", ".join(values)
        self.status = status
        self.head_done = True
        # (What comes after the head, trailers, is counted with it: `_recount` first, if ever.)
        self.counting = STALE
        self.news = True

    def _after_answer(self) -> None:
        """A message begins after the answer, in the same read: the answer is taken as its
        Content-Length framed it, and nothing after it (not added to its body or headers: the parser
        stops here). The connection cannot be trusted, so it is closed and not reused, as HTTP/1.1
        clients do. Checked in the callbacks the answer costs anyway (a Python callback for the
        start of every message would cost each answer one more call; a message with no header yet
        is found by `tick`, which only counts, in C); junk after the answer makes a parser error,
        which `buffer_updated` lets pass once the answer is complete."""
        self.keep_alive = False
        raise HttpError("a message after the answer")  # stops the parser; buffer_updated closes

    def _bodied(self, pieces: int) -> None:
        """The parser added to `body` after its first `pieces` pieces, in the read just parsed: more
        for the reader; reading pauses while more than `HIGH_WATER` bytes of it wait unread."""
        self.buffered += sum(map(len, self.body[pieces:]))
        self.news = True
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self.interim:  # (an interim response ends with its head: the answer is the next message)
            self.interim = False
            return
        # Asked here: once the callback returns, the parser has moved on to the next message.
        self.keep_alive = self.parser.should_keep_alive()
        self.ended = self.tick()
        self.complete = True
        self.headers_left = -1  # (a header of a message after it goes to `_head_too_large`)
        self.counting = COUNTED
        self.news = True

    # -- for the client ----------------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            taking = self.taking
            if taking is None:
                waiter.set_result(None)
            else:
                self.taking = None
                taking(self, waiter)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.taking = None  # (the waiter fails: its caller takes the failure on)
            waiter.set_exception(error)

    def waiting(
        self, timeout: float | None, waiter: asyncio.Future[None] | None = None
    ) -> asyncio.Future[None]:
        """What to await until the parser has more for the reader (or the connection fails, or
        `timeout` passes with nothing read). A future, not a coroutine: one frame less per wait. Once
        done it stays `waiter` until the next wait (`_wake` and `_fail` pass over a done one).
        `waiter`: the future to wait with (the client's own), not a new one."""
        if self.error is not None:
            raise self.error
        new_future = self.new_future
        if new_future is None:  # (the loop looked up once per connection: a system call on 3.11)
            new_future = self.new_future = future_maker(asyncio.get_running_loop())
        if waiter is None:
            waiter = new_future()
            self.taking = None
        self.waiter = waiter
        if timeout is not None:
            # Fails it with TimeoutError unless woken first. (The queue of the timeout, kept: nearly
            # every wait of a connection has the same.)
            expiry = self.expiry
            if expiry is None or expiry.timeout != timeout:
                expiry = self.expiry = self.deadlines.expiry(timeout, waiter.get_loop())
            expiry.add(waiter)
        return waiter

    async def wait(self, timeout: float | None) -> None:
        """Until the parser has more for the reader (`waiting`, awaited)."""
        await self.waiting(timeout)

    def take(self) -> bytes:
        """The body bytes parsed so far (reading resumes if it had paused)."""
        data = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        self.body.clear()
        self.buffered = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data

    @property
    def headers(self) -> dict[str, str]:
        """The head's headers, names in lower case, values decoded (Latin-1), repeated ones joined
        with ", ": a new dict at each reading (`fields`, as read)."""
        return {name: value.decode("latin-1") for name, value in self.fields.items()}

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed and self.error is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Response:
    """A response whose head has been read; its body is read with `read()`, `chunks()` or `lines()`."""

    def __init__(
        self, conn: Http11Connection, read_timeout: float | None, max_body: int, max_line: int
    ) -> None:
        self._conn = conn
        self._timeout = read_timeout
        self.max_body = max_body
        """The largest body `read()` takes (ResponseTooLarge beyond)."""
        self.max_line = max_line
        """The longest line `lines()` takes (ResponseTooLarge beyond)."""
        self.status = conn.status
        self.headers = conn.headers
        """Header names in lower case; repeated headers joined with ", "."""

    @property
    def complete(self) -> bool:
        """The whole body has come (`read()` then returns it without waiting)."""
        return self._conn.complete

    def read_nowait(self) -> bytes | None:
        """The whole body if all of it has come, before any other reading (None: `read()` waits for
        it); ResponseTooLarge if it is over `max_body`."""
        conn = self._conn
        if not conn.complete:
            return None
        body = conn.take() if conn.body else b""
        if len(body) > self.max_body:
            raise self._too_large(f"the response body exceeds the limit of {self.max_body} bytes")
        return body

    async def read(self) -> bytes:
        """The whole body; ResponseTooLarge if it is over `max_body` (found before reading it all)."""
        conn = self._conn
        length = self.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            raise self._too_large(
                f"the response body of {length} bytes exceeds the limit of {self.max_body} bytes"
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            if conn.body:
                chunk = conn.take()
                size += len(chunk)
                if size > self.max_body:
                    raise self._too_large(f"the response body exceeds the limit of {self.max_body} bytes")
                chunks.append(chunk)
            if conn.complete:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            await conn.waiting(self._timeout)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in pieces of any size, for a caller that frames it itself (SSE:
        `mcpbind.protocol.framing`, which bounds what it buffers)."""
        conn = self._conn
        while True:
            if conn.body:
                yield conn.take()
            elif conn.complete:
                return
            else:
                await conn.waiting(self._timeout)

    async def lines(self) -> AsyncIterator[bytes]:
        """The body line by line, each with its line ending (the last one may have none)."""
        conn = self._conn
        pending = bytearray()
        scanned = 0  # no newline before this offset of `pending`: a long line is searched once
        while True:
            if conn.body:
                pending += conn.take()
                start = 0
                while (end := pending.find(b"\n", scanned)) >= 0:
                    yield bytes(pending[start : end + 1])
                    start = scanned = end + 1
                del pending[:start]
                scanned = len(pending)
                if scanned > self.max_line:
                    raise self._too_large(
                        f"a line of the response exceeds the limit of {self.max_line} bytes"
                    )
            if conn.body:
                continue  # more came while the lines above were being taken
            if conn.complete:
                if pending:
                    yield bytes(pending)
                return
            await conn.waiting(self._timeout)

    def _too_large(self, message: str) -> ResponseTooLarge:
        """The error for a body or line over its limit; the rest is not read: the connection closes."""
        self._conn.close()
        return ResponseTooLarge(message)
