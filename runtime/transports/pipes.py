"""The pipes under the stdio transport: reading lines off a pipe and writing messages to one, on the loop.

A server reads stdin with `LineProtocol` (flow control: reading pauses while `READ_BUFFER_HIGH` bytes
of lines wait to be taken, or while its answers wait for the client) and writes stdout through
`Batched` (the messages of one loop turn in one system call) over `WriteProtocol` (writers wait while
`WRITE_BUFFER_HIGH` bytes are unread). A file instead of a pipe (`server < requests.jsonl`) is read in
a thread (`FileLines`) and written directly (`FileSink`). `grow_pipe` widens a pipe (or a Unix socket
pair's send buffer) that a large message crosses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Final, Protocol, cast

from ..aio.interfaces import InlineServe
from ..protocol.endpoint import LineBuffer, LineTooLong

log = logging.getLogger("mcpbind.stdio")

_strip: Final = bytes.strip
_map: Final = map

if TYPE_CHECKING:
    # What the pipes read and write through, for the type checker alone: each `typing.Protocol` class
    # costs a server's start about 0.15M instructions (tests/unit/test_imports.py).
    class Lines(Protocol):
        async def read_line(self) -> bytes | LineTooLong | None: ...

    class Sink(Protocol):
        def write(self, data: bytes) -> None: ...

        def writelines(self, data: Iterable[bytes]) -> None: ...

        def is_closing(self) -> bool: ...

        def close(self) -> None: ...

    class Flow(Protocol):
        """The flow control of a pipe written to, as `Batched.offer` heeds it (`WriteProtocol`, and the
        stdio client's `ServerProcess` for the server's stdin)."""

        @property
        def resumed(self) -> object:
            """None while writing may go on; anything else while the pipe's reader is behind."""
            ...


__all__ = [
    "CHUNK",
    "LARGE",
    "PIPE_SIZE",
    "READ_BUFFER_HIGH",
    "READ_SIZE",
    "WRITE_BUFFER_HIGH",
    "Batched",
    "FileLines",
    "FileSink",
    "LineProtocol",
    "LineReader",
    "WriteProtocol",
    "grow_pipe",
    "pollable",
    "read_small",
]

CHUNK: Final = 256 * 1024
LARGE: Final = 64 * 1024
"""A message this large is written with its newline beside it, not copied to join one."""
WRITE_BUFFER_HIGH: Final = 1024 * 1024
"""Bytes of answers buffered for stdout beyond which a server's writers wait for the client to read
(and it stops reading its stdin)."""
PIPE_SIZE: Final = 1024 * 1024
"""What a pipe is grown to (Linux) once a message larger than the kernel's default pipe (64 KiB) crosses
it: a 1 MB answer then goes in one system call instead of sixteen hand-overs between the processes,
each a wake-up of both. Only then: the kernel counts pipe memory per user (`pipe-user-pages-soft`), and a
peer that sends small messages has no use for it. A Unix socket pair's send buffer is grown to hold as
much (`grow_pipe`)."""
READ_BUFFER_HIGH: Final = 4 * 1024 * 1024
"""Bytes of requests read from stdin and not yet taken beyond which a server stops reading it."""
READ_SIZE: Final = 64 * 1024
"""The most a pipe is read in one system call on asyncio's loop (`read_small`): under glibc's threshold
for mapping an allocation of its own (128 KiB), so that each read's bytes come from the heap."""


def read_small(transport: asyncio.BaseTransport) -> None:
    """Have asyncio's pipe `transport` read at most `READ_SIZE` per system call.

    asyncio's pipe transport reads up to `max_size` (256 KiB) into a new bytes object, which glibc maps
    (mmap) and unmaps once it shrinks to what was read: two system calls, a page fault and a TLB flush
    on every read, a quarter of a process's CPU at 16 messages in flight. A read of `READ_SIZE` is
    served from the heap. (uvloop reads into a buffer it keeps: its transport has no `max_size`.)"""
    if getattr(transport, "max_size", 0) > READ_SIZE:
        transport.max_size = READ_SIZE  # type: ignore[attr-defined]


class LineProtocol(asyncio.Protocol):
    """Collects complete lines from a pipe; oversized lines become error answers.

    Reading the pipe pauses while more than `max_buffered` bytes of lines wait to be taken (a client
    sending faster than the server serves), and while our own output is not being read (`hold`):
    the client's writes then wait on the full pipe instead of our memory growing."""

    def __init__(self, max_line: int, max_buffered: int = READ_BUFFER_HIGH) -> None:
        self.buffer = LineBuffer(max_line)
        self.lines: deque[bytes | LineTooLong] = deque()
        # The reader's future while it waits for a line (a bare future: an Event's wait is a
        # coroutine, a waiter list and a future, and one request at a time waits once each).
        self.waiter: asyncio.Future[None] | None = None
        self.eof = False
        self.max_buffered = max_buffered
        self.buffered = 0
        """Bytes of the lines in `lines`."""
        self.oversized = 0
        """Oversized lines' errors in `lines`."""
        self.held = False
        self.paused = False
        self.transport: asyncio.ReadTransport | None = None
        self.serve: InlineServe | None = None
        """The reader's own service of a burst read while it waits (`InlineServing`; its peer's)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        """The loop reading the pipe, found once: Python 3.11's `get_running_loop` is a system call
        (`getpid`) each time, and a server waits for a request this way once per request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        read_small(transport)

    def take(self) -> bytes | LineTooLong:
        """The oldest line (there is one): reading resumes once enough of them are taken."""
        line = self.lines.popleft()
        if type(line) is bytes:
            self.buffered -= len(line)
        else:
            self.oversized -= 1
        if self.paused and not self.held and self.buffered <= self.max_buffered // 2:
            self._pause(False)
        return line

    def take_messages(self) -> Collection[bytes]:
        """Every line waiting, oldest first, up to an oversized line's error (taken by `take`): a
        burst of requests taken in one call. Reading resumes as for `take`: the lines taken are the
        caller's, served before it reads again, so that at most twice `max_buffered` bytes wait."""
        lines = self.lines
        if not lines:
            return ()
        taken: Collection[bytes]
        if not self.oversized:  # (the usual burst: the whole queue, with no copy)
            if len(lines) == 1:  # (a request at a time: the line alone, the queue kept, not made anew)
                taken = (lines.popleft(),)  # type: ignore[assignment]  # (bytes: no error among them)
            else:
                taken = lines  # type: ignore[assignment]  # (no error among them: bytes; `cast` is a call)
                self.lines = deque()
            self.buffered = 0
        else:
            taken = []
            while lines and type(lines[0]) is bytes:
                taken.append(cast(bytes, lines.popleft()))
            self.buffered -= sum(map(len, taken))
        if self.paused and not self.held and self.buffered <= self.max_buffered // 2:
            self._pause(False)
        return taken

    def hold(self, held: bool) -> None:
        """Pause reading while our output waits for the client to read it (and resume after)."""
        self.held = held
        self._pause(held or self.buffered > self.max_buffered)

    def _pause(self, pause: bool) -> None:
        if pause != self.paused and self.transport is not None and not self.transport.is_closing():
            self.paused = pause
            if pause:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def waiting(self) -> asyncio.Future[None] | None:
        """A future done once a line or the end of input arrives, for a reader to await while no line
        waits and the input goes on (a plain future, not a coroutine around one: one wait per request
        at a time); None otherwise: a line waits, or the input ended."""
        if self.lines or self.eof:
            return None
        loop = self.loop
        if loop is None:
            loop = self.loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        return waiter

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        lines: Sequence[bytes | LineTooLong]
        buffer = self.buffer
        serve = self.serve
        if serve is not None and not buffer.parts and not buffer.skipping and len(data) <= buffer.max_line:
            # Nothing held: `LineBuffer.feed`'s usual case, whole lines, without its call (the same
            # lines), for the reader's own service. One line is every read at one in flight.
            head, newline, rest = data.partition(b"\n")
            if newline and not rest:  # (one whole line)
                waiter = self.waiter
                line = head.strip()
                if not line:
                    return
                if waiter is None or waiter.done():
                    lines = (line,)
                else:
                    # The reader waits, nothing queued (else no waiter): it serves the line here.
                    lines = serve((line,))
                    if not lines:
                        return
            elif data[-1:] == b"\n":  # (whole lines)
                # (each line stripped by `map`, with no bytecode a line: the same lines)
                split = list(_map(_strip, data.split(b"\n")))
                split.pop()  # (what follows the last newline: nothing)
                lines = split if b"" not in split else [line for line in split if line]
                if lines and self.waiter is not None and not self.waiter.done():
                    lines = serve(lines)
            else:  # (a line in parts: `feed` holds its start)
                lines = buffer.feed(data)
                if lines and self.waiter is not None and not self.waiter.done():
                    lines = serve(lines)
        else:
            lines = buffer.feed(data)
            if lines and serve is not None and self.waiter is not None and not self.waiter.done():
                # The reader waits, nothing queued (else no waiter): it serves what it can right
                # here, with no future set and no task woken for it; only the rest is queued.
                lines = serve(lines)
        if lines:
            self.lines.extend(lines)
            try:
                self.buffered += sum(map(len, lines))  # type: ignore[arg-type]
            except TypeError:  # an oversized line's error among them (it holds no bytes)
                self.buffered += sum([len(line) for line in lines if type(line) is bytes])
                self.oversized += sum([1 for line in lines if type(line) is not bytes])
            if self.buffered > self.max_buffered:
                self._pause(True)
        if self.lines:  # (`_wake`, inline: at one request in flight, every request's)
            waiter = self.waiter
            if waiter is not None:
                self.waiter = None
                if not waiter.done():
                    waiter.set_result(None)

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self._wake()


class WriteProtocol(asyncio.Protocol):
    """Tells when the write pipe is closed (after `close()`, once the buffered answers are written),
    and whether its buffer is over the high-water mark (the peer is not reading)."""

    def __init__(self) -> None:
        self.closed = asyncio.get_running_loop().create_future()
        self.resumed: asyncio.Future[None] | None = None
        """Set while writing is paused: done when the buffer has drained below the low-water mark."""
        self.reading: LineProtocol | None = None
        """The input whose reading waits while this output does."""

    def pause_writing(self) -> None:
        if self.resumed is None:
            self.resumed = asyncio.get_running_loop().create_future()
        if self.reading is not None:
            self.reading.hold(True)

    def resume_writing(self) -> None:
        resumed, self.resumed = self.resumed, None
        if resumed is not None and not resumed.done():
            resumed.set_result(None)
        if self.reading is not None:
            self.reading.hold(False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.resume_writing()  # nothing waits on a pipe that is gone (what is written now is dropped)
        if not self.closed.done():
            self.closed.set_result(None)


class LineReader:
    def __init__(self, protocol: LineProtocol) -> None:
        self.protocol = protocol

    async def read_line(self) -> bytes | LineTooLong | None:
        proto = self.protocol
        while (waiter := proto.waiting()) is not None:
            await waiter
        return proto.take() if proto.lines else None


class FileLines:
    """Lines from a descriptor the event loop cannot watch (a regular file, /dev/null): each chunk is
    read in a worker thread, so that a server fed from a file still serves as it reads."""

    def __init__(self, fd: int, max_line: int) -> None:
        self.fd = fd
        self.buffer = LineBuffer(max_line)
        self.lines: deque[bytes | LineTooLong] = deque()
        self.eof = False

    async def read_line(self) -> bytes | LineTooLong | None:
        while not self.lines:
            if self.eof:
                return None
            chunk = await asyncio.get_running_loop().run_in_executor(None, os.read, self.fd, CHUNK)
            if chunk:
                self.lines.extend(self.buffer.feed(chunk))
            else:
                self.eof = True
        return self.lines.popleft()


class FileSink:
    """Writes to a descriptor the event loop cannot watch (a regular file, /dev/null), which never
    makes a writer wait for a reader: plain blocking writes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.closed = False

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def writelines(self, data: Iterable[bytes]) -> None:
        for chunk in data:
            self.write(chunk)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)


def pollable(fd: int) -> bool:
    """Whether the event loop can watch `fd`: a pipe, a socket or a terminal. epoll refuses regular
    files and devices such as /dev/null (asyncio raises, uvloop aborts the process), so a server run
    as `server < requests.jsonl > answers.jsonl` reads and writes those directly."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or (stat.S_ISCHR(mode) and os.isatty(fd))


def grow_pipe(fd: int) -> None:
    """Let `PIPE_SIZE` bytes wait in the pipe that `fd` writes to: a pipe grown (Linux), or the send
    buffer of our end of a Unix socket pair (what a client on libuv gives its child for stdio: Node's,
    uvloop's), 208 KiB by default, so that a 1 MB answer was five writes, each a wake-up of both
    processes. Best effort: not Linux, over the user's pipe memory, or a socket of any other kind
    (TCP tunes its own buffers), and it stays as it is; the kernel caps a socket's at `wmem_max`."""
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISFIFO(mode):
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        elif stat.S_ISSOCK(mode):
            import socket

            # A duplicate of the descriptor to ask through (a socket object closes its own): the
            # option is the socket's, whichever descriptor sets it.
            with socket.socket(fileno=os.dup(fd)) as end:
                if end.family == socket.AF_UNIX and end.type == socket.SOCK_STREAM:
                    # (SO_SNDBUF is doubled by the kernel for its bookkeeping: room for PIPE_SIZE bytes)
                    end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_SIZE)
    except (ImportError, AttributeError, OSError):
        pass


class Batched:
    """Newline-framed messages written in one turn of the loop, sent in one system call: with many
    requests in flight, messages finish together, and one write per message was the largest cost of
    a stdio peer (server or client). `pipe`: the descriptor of the pipe written to, grown
    (`grow_pipe`) on the first message of `LARGE` bytes or more. `flow`: the pipe's flow control,
    which `offer` heeds.

    While `hold` is on, the first message of a turn schedules no flush: the reader that held it
    (a server's read loop) sends them itself (`release`) before it next waits. At one request in
    flight this saves the loop turn the flush took (an answer written as the request's own step
    ends, not one turn later).

    `at_once`: unless held, `write` sends each message at once rather than in a flush scheduled for
    the next turn (a stdio client: its bursts of requests follow the answers of one read, which holds
    the writes for them, `hold_for_turn`; a lone request goes with no turn of its own for the flush)."""

    __slots__ = ("_at_once", "_flow", "_held", "_loop", "_pending", "_pipe", "_sink")

    def __init__(
        self, sink: Sink, pipe: int | None = None, flow: Flow | None = None, *, at_once: bool = False
    ) -> None:
        self._sink = sink
        self._pending: list[bytes] = []
        self._pipe = pipe
        self._flow = flow
        self._held = False
        self._at_once = at_once
        self._loop: asyncio.AbstractEventLoop | None = None

    def offer(self, data: bytes) -> bool:
        """`write`, unless the reader of the pipe is not reading (`flow` paused): then False, and
        nothing is queued. (A server's every answer, a stdio client's every request: `write`'s body,
        inline.)"""
        flow = self._flow
        if flow is not None and flow.resumed is not None:
            return False
        pending = self._pending
        if self._held:  # (`release` sends it, or drops it if closing: a stdio server's every answer)
            if len(data) >= LARGE and self._pipe is not None:
                grow_pipe(self._pipe)
                self._pipe = None
            pending.append(data)
            return True
        if not pending:
            if self._sink.is_closing():
                return True  # (dropped, as `write` drops it)
            if not self._at_once:
                loop = self._loop
                if loop is None:
                    loop = self._loop = asyncio.get_running_loop()  # (once: a system call in 3.11)
                loop.call_soon(self.flush)
            elif len(data) < LARGE:
                # Sent at once, alone (`flush`'s work, inline: a stdio client's every request
                # at one in flight).
                self._sink.write(data + b"\n")
                return True
        if self._pipe is not None and len(data) >= LARGE:
            grow_pipe(self._pipe)
            self._pipe = None
        pending.append(data)
        if self._at_once:
            self.flush()  # (a large message: see `flush`)
        return True

    def send_now(self, data: bytes) -> bool:
        """`offer`, sent at once with whatever waits before it rather than held or flushed a turn
        later (a stdio server's answer to a read of one line, served in the read callback with no
        `hold` around it: `release`'s work, inline). False, as `offer`: the pipe's reader is not
        reading, nothing queued. A sink that fails is logged, as `release` logs it."""
        flow = self._flow
        if flow is not None and flow.resumed is not None:
            return False
        pending = self._pending
        try:
            if not pending and len(data) < LARGE:  # (held or not: nothing waits to go before it)
                sink = self._sink
                if not sink.is_closing():  # (else dropped, as `write` drops it)
                    sink.write(data + b"\n")
                return True
            if self._pipe is not None and len(data) >= LARGE:
                grow_pipe(self._pipe)
                self._pipe = None
            pending.append(data)
            if not self._held:
                self.flush()  # (what waited for a flush scheduled, then this: in order, in one write)
        except Exception:
            log.exception("could not write to the pipe")
        return True

    def write(self, data: bytes) -> None:
        pending = self._pending
        if not pending:
            # The turn's first message. (A sink that closes later in the turn drops the rest in
            # `flush`, which checks again.)
            if self._sink.is_closing():
                return
            if not self._held and not self._at_once:
                loop = self._loop
                if loop is None:
                    loop = self._loop = asyncio.get_running_loop()  # (once: a system call in 3.11)
                loop.call_soon(self.flush)
        if self._pipe is not None and len(data) >= LARGE:
            grow_pipe(self._pipe)
            self._pipe = None
        pending.append(data)
        if self._at_once and not self._held:
            self.flush()

    def held_writer(self) -> Callable[[bytes], object]:
        """While held and the pipe's reader reads (`flow`), the queue's own `append` (no Python call
        per message: the lane's answers to a burst); else `offer`. Good until `release`: nothing is
        written while held, so the reader cannot fall behind meanwhile; a message of `LARGE` bytes so
        queued grows the pipe as it is flushed (`flush`), before it is written."""
        flow = self._flow
        if self._held and (flow is None or flow.resumed is None):
            return self._pending.append
        return self.offer

    def hold(self) -> None:
        """Queue messages without scheduling their flush, until `release`: for the one who calls
        `release` before anything else can run (it must not wait in between, or messages sit)."""
        self._held = True

    def hold_for_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """`hold` until the callbacks `loop` has queued so far have run (a stdio client's callers,
        woken by the answers it just read): what they write goes in one system call at the end of
        their turn, not in a flush a turn later."""
        if not self._held:
            self._held = True
            loop.call_soon(self.release)

    def release(self) -> None:
        """End `hold`, sending what was queued meanwhile (a flush already scheduled finds it sent).
        A sink that fails is logged, as a scheduled flush's failure is: the caller reads on."""
        self._held = False
        pending = self._pending
        if pending:
            try:
                if len(pending) == 1 and len(pending[0]) < LARGE and not self._sink.is_closing():
                    # (`flush`'s usual case, inline: a stdio server's every read at one in flight)
                    try:
                        self._sink.write(pending[0] + b"\n")
                    finally:
                        pending.clear()  # (as `flush` leaves it)
                else:
                    self.flush()
            except Exception:
                log.exception("could not write to the pipe")

    def flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        try:
            if self._pipe is not None and max(map(len, pending)) >= LARGE:  # (`held_writer`'s)
                grow_pipe(self._pipe)
                self._pipe = None
            if self._sink.is_closing():
                pass
            elif len(pending) == 1 and len(pending[0]) >= LARGE:
                # A large message alone: its newline goes in the same system call (writev) rather
                # than in a copy of the whole message joined to it.
                self._sink.writelines((pending[0], b"\n"))
            else:
                pending.append(b"")
                self._sink.write(b"\n".join(pending))
        finally:
            pending.clear()  # (even if the sink failed: the next message then schedules its flush)
