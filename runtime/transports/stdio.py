"""The stdio transport: newline-delimited JSON over a subprocess's stdin/stdout.

Both sides read and write on the event loop itself (pipes registered with the loop, no thread per
line). Framing is `LineBuffer`: partial lines wait for the rest, an oversized line is answered with an
error and skipped, and bytes that are not UTF-8 JSON become a -32700 answer while serving goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import stat
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import IO, TYPE_CHECKING, Final, Protocol

from ..protocol.endpoint import DEFAULT_MAX_LINE, ClippingLineBuffer, LineBuffer, LineTooLong, Oversized
from ..protocol.jsonrpc import INTERNAL_ERROR, INVALID_REQUEST, encode_error
from ..protocol.salvage import salvage
from .plain import PlainTransport

if TYPE_CHECKING:
    pass

__all__ = ["StdioServerTransport", "StdioClientTransport", "DEFAULT_MAX_LINE", "WRITE_WAIT"]

log = logging.getLogger("mcpbind.stdio")

_CHUNK: Final = 256 * 1024
_LARGE: Final = 64 * 1024
"""A message this large is written with its newline beside it, not copied to join one."""
WRITE_BUFFER_HIGH: Final = 1024 * 1024
"""Bytes of answers buffered for stdout beyond which a server's writers wait for the client to read
(and it stops reading its stdin)."""
PIPE_SIZE: Final = 1024 * 1024
"""What a pipe is grown to (Linux) once a message larger than the kernel's default pipe (64 KiB) crosses
it: a 1 MB answer then goes in one system call instead of sixteen hand-overs between the processes,
each a wake-up of both. Only then: the kernel counts pipe memory per user (`pipe-user-pages-soft`), and a
peer that sends small messages has no use for it."""
READ_BUFFER_HIGH: Final = 4 * 1024 * 1024
"""Bytes of requests read from stdin and not yet taken beyond which a server stops reading it."""
DRAIN_ON_CLOSE: Final = 30.0
"""Seconds a closing server waits for its peer to read the answers still buffered for stdout."""
_STDERR: Final = {
    None: None,
    "inherit": None,
    "capture": asyncio.subprocess.PIPE,
    "devnull": asyncio.subprocess.DEVNULL,
}

WRITE_WAIT: ContextVar[float | None] = ContextVar("mcpbind_write_wait", default=None)
"""How long a client's write may wait for the server to read its stdin (None: as long as it takes):
the client sets it to the timeout of the request being sent, so that a server that stops reading
cannot hold a request past its timeout, and to 0 for a best-effort cancellation."""


class _LineProtocol(asyncio.Protocol):
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
        self.held = False
        self.paused = False
        self.transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def take(self) -> bytes | LineTooLong:
        """The oldest line (there is one): reading resumes once enough of them are taken."""
        line = self.lines.popleft()
        if type(line) is bytes:
            self.buffered -= len(line)
        if self.paused and not self.held and self.buffered <= self.max_buffered // 2:
            self._pause(False)
        return line

    def take_message(self) -> bytes | None:
        """The oldest line if one waits and it is a message (not an oversized line's error), else
        None. (`take`'s usual case without its checks: this is every request read in a burst.)"""
        lines = self.lines
        if not lines:
            return None
        line = lines[0]
        if type(line) is not bytes:
            return None
        lines.popleft()
        self.buffered -= len(line)
        if self.paused and not self.held and self.buffered <= self.max_buffered // 2:
            self._pause(False)
        return line

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

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        lines = self.buffer.feed(data)
        if lines:
            self.lines.extend(lines)
            try:
                self.buffered += sum(map(len, lines))  # type: ignore[arg-type]
            except TypeError:  # an oversized line's error among them (it holds no bytes)
                self.buffered += sum([len(line) for line in lines if type(line) is bytes])
            if self.buffered > self.max_buffered:
                self._pause(True)
        if self.lines:
            self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self._wake()


class _WriteProtocol(asyncio.Protocol):
    """Tells when the write pipe is closed (after `close()`, once the buffered answers are written),
    and whether its buffer is over the high-water mark (the peer is not reading)."""

    def __init__(self) -> None:
        self.closed = asyncio.get_running_loop().create_future()
        self.resumed: asyncio.Future[None] | None = None
        """Set while writing is paused: done when the buffer has drained below the low-water mark."""
        self.reading: _LineProtocol | None = None
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


class _LineReader:
    def __init__(self, protocol: _LineProtocol) -> None:
        self.protocol = protocol

    async def read_line(self) -> bytes | LineTooLong | None:
        proto = self.protocol
        while not proto.lines:
            if proto.eof:
                return None
            proto.waiter = asyncio.get_running_loop().create_future()
            try:
                await proto.waiter
            finally:
                proto.waiter = None
        return proto.take()


class _Lines(Protocol):
    async def read_line(self) -> bytes | LineTooLong | None: ...


class _FileLines:
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
            chunk = await asyncio.get_running_loop().run_in_executor(None, os.read, self.fd, _CHUNK)
            if chunk:
                self.lines.extend(self.buffer.feed(chunk))
            else:
                self.eof = True
        return self.lines.popleft()


class _Sink(Protocol):
    def write(self, data: bytes) -> None: ...

    def writelines(self, data: Iterable[bytes]) -> None: ...

    def is_closing(self) -> bool: ...

    def close(self) -> None: ...


class _FileSink:
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


def _pollable(fd: int) -> bool:
    """Whether the event loop can watch `fd`: a pipe, a socket or a terminal. epoll refuses regular
    files and devices such as /dev/null (asyncio raises, uvloop aborts the process), so a server run
    as `server < requests.jsonl > answers.jsonl` reads and writes those directly."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or (stat.S_ISCHR(mode) and os.isatty(fd))


def _grow_pipe(fd: int) -> None:
    """Best effort: not Linux, not a pipe, or over the user's pipe memory, and the pipe stays as it is."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, AttributeError, OSError):
        pass


class _Batched:
    """Newline-framed messages written in one turn of the loop, sent in one system call: with many
    requests in flight, messages finish together, and one write per message was the largest cost of
    a stdio peer (server or client)."""

    __slots__ = ("_pending", "_sink")

    def __init__(self, sink: _Sink) -> None:
        self._sink = sink
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if self._sink.is_closing():
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        pending = self._pending
        if not self._sink.is_closing() and pending:
            if len(pending) == 1 and len(pending[0]) >= _LARGE:
                # A large message alone: its newline goes in the same system call (writev) rather
                # than in a copy of the whole message joined to it.
                self._sink.writelines((pending[0], b"\n"))
            else:
                pending.append(b"")
                self._sink.write(b"\n".join(pending))
        pending.clear()


class StdioServerTransport:
    """A server's side of stdio: reads its stdin, writes its stdout (both registered with the loop)."""

    def __init__(
        self,
        stdin: IO[bytes] | None = None,
        stdout: IO[bytes] | None = None,
        *,
        max_line: int = DEFAULT_MAX_LINE,
    ) -> None:
        self._stdin = stdin or sys.stdin.buffer
        self._stdout = stdout or sys.stdout.buffer
        self._max_line = max_line
        self._reader: _Lines | None = None
        self._writer: _Sink | None = None
        self._frames: _Batched | None = None
        self._written: asyncio.Future[None] | None = None
        self._flow: _WriteProtocol | None = None
        self._input: _LineProtocol | None = None
        """The pipe's reader, holding the lines read and not yet taken (None for a file, read in a thread)."""
        self._small_pipe: int | None = None
        """stdout's descriptor while its pipe has not been grown (`PIPE_SIZE`)."""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        # A duplicate of the descriptors, so that closing the transports leaves sys.stdin/out usable.
        stdin_fd, stdout_fd = os.dup(self._stdin.fileno()), os.dup(self._stdout.fileno())
        if _pollable(stdin_fd):
            protocol = _LineProtocol(self._max_line)
            await loop.connect_read_pipe(lambda: protocol, os.fdopen(stdin_fd, "rb", buffering=0))
            self._reader = _LineReader(protocol)
            self._input = protocol
        else:
            self._reader = _FileLines(stdin_fd, self._max_line)
        if _pollable(stdout_fd):
            stdout = os.fdopen(stdout_fd, "wb", buffering=0)
            self._writer, writing = await loop.connect_write_pipe(_WriteProtocol, stdout)
            self._writer.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
            self._written = writing.closed
            self._flow = writing
            writing.reading = self._input
            self._small_pipe = stdout_fd
        else:
            self._writer = _FileSink(stdout_fd)
        self._frames = _Batched(self._writer)

    def read_buffered(self) -> bytes | None:
        """A message already read off the pipe (often many, with many requests in flight), or None."""
        protocol = self._input
        return None if protocol is None else protocol.take_message()

    async def read(self) -> bytes | None:
        assert self._reader is not None, "start() first"
        waiting = self.read_buffered()
        if waiting is not None:
            return waiting
        while True:
            line = await self._reader.read_line()
            if isinstance(line, LineTooLong):
                await self.write(encode_error(None, INVALID_REQUEST, f"Invalid request: {line}"))
                continue
            return line

    def _grow(self) -> None:
        """The first large message: stdout's pipe grows (`PIPE_SIZE`), once."""
        assert self._small_pipe is not None
        _grow_pipe(self._small_pipe)
        self._small_pipe = None

    def write_nowait(self, data: bytes) -> bool:
        """Queue `data` for this turn's write unless the client is not reading our stdout (False:
        nothing queued, `write` queues it and waits)."""
        flow = self._flow
        if flow is not None and flow.resumed is not None:
            return False
        frames = self._frames
        assert frames is not None, "start() first"
        if self._small_pipe is not None and len(data) >= _LARGE:
            self._grow()
        frames.write(data)
        return True

    async def write(self, data: bytes) -> None:
        assert self._frames is not None, "start() first"
        if self._small_pipe is not None and len(data) >= _LARGE:
            self._grow()
        self._frames.write(data)
        flow = self._flow
        if flow is not None and flow.resumed is not None:
            # The client is not reading our stdout: the writer waits (and with it the
            # reading of more requests, which answer on the reading task or hold their slots)
            # instead of buffering answers without bound. Shielded: one cancelled writer must not
            # cancel the future every other writer waits on.
            await asyncio.shield(flow.resumed)

    async def close(self) -> None:
        if self._writer is not None and self._frames is not None:
            self._frames.flush()
            self._writer.close()
            if self._written is not None:
                # The pipe closes once what is buffered is written: the last answers (a large one
                # is mostly still buffered) would be lost if the loop stopped before.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._written, DRAIN_ON_CLOSE)


class StdioClientTransport(PlainTransport):
    """A client's side of stdio: spawns the server and talks to its stdin/stdout.

    `stderr`: None or "inherit" passes the server's stderr through to ours; "capture" keeps it (see
    `stderr_text`); "devnull" drops it. `max_line`: the longest line read from the server; a longer
    one is dropped unread, and the request it answers fails with an error that says so. Writes wait
    while the server does not read, but never longer than `WRITE_WAIT`. Shutdown follows the spec:
    close the server's stdin, wait, then SIGTERM, wait, then SIGKILL.
    """

    def __init__(
        self,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stderr: str | None = None,
        max_line: int = DEFAULT_MAX_LINE,
        shutdown_timeout: float = 2.0,
    ) -> None:
        if stderr is not None and not isinstance(stderr, str):
            raise TypeError(f"stderr must be None or one of 'inherit', 'capture', 'devnull', not {stderr!r}")
        if stderr not in _STDERR:
            raise ValueError(f"stderr must be None or one of 'inherit', 'capture', 'devnull', not {stderr!r}")
        self.command = command
        self.args = list(args)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stderr = stderr
        self.capture_stderr = stderr == "capture"
        self.max_line = max_line
        self.shutdown_timeout = shutdown_timeout
        self.process: asyncio.subprocess.Process | None = None
        self._buffer = ClippingLineBuffer(max_line)
        self._lines: deque[bytes] = deque()
        self._stderr = bytearray()
        self._stderr_task: asyncio.Task[None] | None = None
        self._frames: _Batched | None = None
        self._deliver: Callable[[bytes], Awaitable[None]] | None = None
        self._small_pipes = True
        """The server's stdin pipe has not been grown (`PIPE_SIZE`); its stdout is the server's to grow."""

    async def start(self) -> None:
        env = None if self.env is None else {**os.environ, **self.env}
        self.process = await asyncio.create_subprocess_exec(
            self.command,
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=_STDERR[self.stderr],
            env=env,
            cwd=self.cwd,
            limit=_CHUNK,
        )
        assert self.process.stdin is not None
        self._frames = _Batched(self.process.stdin)
        if self.capture_stderr:
            self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while chunk := await self.process.stderr.read(_CHUNK):
            self._stderr += chunk

    @property
    def stderr_text(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    def deliver_to(self, feed: Callable[[bytes], Awaitable[None]]) -> None:
        self._deliver = feed

    async def read(self) -> bytes | None:
        """The next line; or, once `deliver_to` was called, every line handed to the peer as it is
        read (no return to the peer's loop per message), and None at the end."""
        assert self.process is not None and self.process.stdout is not None, "start() first"
        deliver = self._deliver
        while True:
            while not self._lines:
                chunk = await self.process.stdout.read(_CHUNK)
                if not chunk:
                    return None
                for line in self._buffer.feed(chunk):
                    if isinstance(line, bytes):
                        self._lines.append(line)
                    else:
                        self._oversized(line)
            if deliver is None:
                return self._lines.popleft()
            while self._lines:
                await deliver(self._lines.popleft())

    def _oversized(self, line: Oversized) -> None:
        """A line over `max_line` was dropped: fail the request it answers, refuse the request it
        is, or (its id unreadable) log it."""
        found = salvage(line.head, line.tail)
        why = f"a message of {line.size} bytes exceeds the client's limit of {self.max_line} bytes (max_line)"
        if found.id is None:
            log.warning("a message from the server was dropped: %s", why)
        elif found.request:
            log.warning("a request from the server was refused: %s", why)
            if self._frames is not None:
                self._frames.write(encode_error(found.id, INVALID_REQUEST, f"Invalid request: {why}"))
        else:
            # Read as the server's own error answer: the request fails with it, at once.
            self._lines.append(
                encode_error(found.id, INTERNAL_ERROR, f"the server's answer is too large: {why}")
            )

    async def write(self, data: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None, "start() first"
        stdin = self.process.stdin
        if stdin.is_closing():
            return
        assert self._frames is not None
        if len(data) >= _LARGE and self._small_pipes:
            self._small_pipes = False
            if (pipe := stdin.transport.get_extra_info("pipe")) is not None:
                _grow_pipe(pipe.fileno())
        self._frames.write(data)
        if not stdin.transport.get_write_buffer_size():
            return  # the pipe took everything so far: nothing to wait for
        wait = WRITE_WAIT.get()
        if wait is not None and wait <= 0:
            return  # best effort (a cancellation): the bytes go when the server reads
        with contextlib.suppress(ConnectionError, TimeoutError):
            # Waits while the pipe is full. Bounded, it gives up a little after the request's own
            # timer has fired; the request then fails with RequestTimeout, and the bytes stay queued.
            await (stdin.drain() if wait is None else asyncio.wait_for(stdin.drain(), wait + 0.01))

    async def close(self) -> None:
        process = self.process
        if process is None:
            return
        if process.stdin is not None and not process.stdin.is_closing():
            if self._frames is not None:
                self._frames.flush()
            process.stdin.close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if process.returncode is not None:
                break
            if sig is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), self.shutdown_timeout)
        if process.returncode is None:
            await process.wait()
        if self._stderr_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._stderr_task, 1.0)
