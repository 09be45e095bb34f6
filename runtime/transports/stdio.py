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
import sys
from collections.abc import Callable, Collection
from typing import IO, TYPE_CHECKING, Any, Final

from ..aio.interfaces import WRITE_WAIT, InlineServe
from ..protocol.endpoint import DEFAULT_MAX_LINE, LineTooLong
from ..protocol.jsonrpc import INVALID_REQUEST, encode_error
from .pipes import (
    PIPE_SIZE,
    READ_BUFFER_HIGH,
    WRITE_BUFFER_HIGH,
    Batched,
    FileLines,
    FileSink,
    LineProtocol,
    LineReader,
    WriteProtocol,
    pollable,
)

if TYPE_CHECKING:
    from .pipes import Lines, Sink
    from .stdio_client import (
        StdioClientTransport,  # the client's, in a module of its own: a server never loads it
    )

__all__ = [
    "DEFAULT_MAX_LINE",
    "MAX_STDERR",
    "PIPE_SIZE",
    "READ_BUFFER_HIGH",
    "WRITE_BUFFER_HIGH",
    "WRITE_WAIT",
    "StdioClientTransport",
    "StdioServerTransport",
]

log = logging.getLogger("mcpbind.stdio")

DRAIN_ON_CLOSE: Final = 30.0
"""Seconds a closing server waits for its peer to read the answers still buffered for stdout."""
MAX_STDERR: Final = 1 << 20
"""Bytes of a server's stderr a client keeps when it captures it (`stderr="capture"`): the last ones."""


def _unstarted(data: bytes) -> bool:
    raise AssertionError("start() first")


def _nothing() -> None:
    """`hold_writes` and `release_writes` before `start`: nothing is written yet."""


class StdioServerTransport:
    """A server's side of stdio: reads its stdin, writes its stdout (both registered with the loop)."""

    write_nowait: Callable[[bytes], bool] = staticmethod(_unstarted)
    """Queue a message for this turn's write unless the client is not reading our stdout (False:
    nothing queued; `write` queues it and waits). From `start` on, the writer's own `Batched.offer`
    (a peer binds it once, and calls it for every answer)."""

    hold_writes: Callable[[], None] = staticmethod(_nothing)
    """Until `release_writes`, what is written waits for that call, with no flush scheduled (a
    peer's read loop, which releases before it next waits: answers go as the burst's step ends, not
    one loop turn later). From `start` on, the writer's own `Batched.hold`."""
    release_writes: Callable[[], None] = staticmethod(_nothing)
    """Send what waited since `hold_writes`, and write as usual again (`Batched.release`)."""
    held_writer: Callable[[], Callable[[bytes], object]] = staticmethod(lambda: _unstarted)
    """What queues a message while writes are held (`BurstWriting`). From `start` on, the writer's
    own `Batched.held_writer`."""
    send_now: Callable[[bytes], bool] = staticmethod(_unstarted)
    """`write_nowait`, sent at once with what waits before it, for an answer made in the pipe's read
    callback with no `hold_writes` around it (`SendingNow`). From `start` on, the writer's own
    `Batched.send_now`."""

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
        self._reader: Lines | None = None
        self._writer: Sink | None = None
        self._frames: Batched | None = None
        self._written: asyncio.Future[None] | None = None
        self._flow: WriteProtocol | None = None
        self._input: LineProtocol | None = None
        """The pipe's reader, holding the lines read and not yet taken (None for a file, read in a thread)."""
        self.read_buffered: Callable[[], Collection[bytes]] = _nothing_read
        """Every message already read off the pipe (often many, with many requests in flight), oldest
        first: from `start` on, the pipe reader's own `take_messages` (a peer calls it for every
        burst, and binds it once: no call in between)."""
        self.refusal_form: Callable[[bytes], bytes] = _as_is
        """How an error answer naming no request (an oversized line's) is put: the revision of the
        connection's session may want `"id": null` there (its `Peer` sets this, `jsonrpc.null_id`)."""
        self.wait_buffered: Callable[[], asyncio.Future[None] | None] = _no_wait
        """A future done once `read_buffered` has something to give or the input ended, while it has
        nothing; None while it has, or when `read` is to be called (what `read_buffered` leaves: an
        oversized line's error, the end; a file, read in a thread). From `start` on, the pipe
        reader's own `waiting`."""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        # A duplicate of the descriptors, so that closing the transports leaves sys.stdin/out usable.
        stdin_fd, stdout_fd = os.dup(self._stdin.fileno()), os.dup(self._stdout.fileno())
        if pollable(stdin_fd):
            protocol = LineProtocol(self._max_line)
            await loop.connect_read_pipe(lambda: protocol, os.fdopen(stdin_fd, "rb", buffering=0))
            self._reader = LineReader(protocol)
            self._input = protocol
            self.read_buffered = protocol.take_messages
            self.wait_buffered = protocol.waiting
        else:
            self._reader = FileLines(stdin_fd, self._max_line)
        if pollable(stdout_fd):
            stdout = os.fdopen(stdout_fd, "wb", buffering=0)
            self._writer, writing = await loop.connect_write_pipe(WriteProtocol, stdout)
            self._writer.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
            self._written = writing.closed
            self._flow = writing
            writing.reading = self._input
        else:
            self._writer = FileSink(stdout_fd)
        self._frames = Batched(self._writer, stdout_fd if self._flow is not None else None, self._flow)
        self.write_nowait = self._frames.offer
        self.hold_writes, self.release_writes = self._frames.hold, self._frames.release
        self.send_now = self._frames.send_now
        self.held_writer = self._frames.held_writer

    def serve_inline(self, serve: InlineServe | None) -> None:
        """Hand every burst read off the pipe while the reader waits to `serve` first, in the pipe's
        read callback (`InlineServing`); a file, read in a thread, queues every line as before."""
        if self._input is not None:
            self._input.serve = serve

    async def read(self) -> bytes | None:
        """The next message (None at the end of input); an oversized line is answered and skipped."""
        proto = self._input
        while True:
            if proto is None:  # (a file, read in a thread)
                assert self._reader is not None, "start() first"
                line = await self._reader.read_line()
            else:  # (`LineReader.read_line`, inline: one coroutine less on every wait for a request)
                while (waiter := proto.waiting()) is not None:
                    await waiter
                if not proto.lines:
                    return None  # (the end of input)
                line = proto.take()
            if isinstance(line, LineTooLong):
                await self.write(
                    self.refusal_form(encode_error(None, INVALID_REQUEST, f"Invalid request: {line}"))
                )
                continue
            return line

    async def write(self, data: bytes) -> None:
        assert self._frames is not None, "start() first"
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


def _as_is(reply: bytes) -> bytes:
    """`refusal_form` until a connection says otherwise."""
    return reply


def _no_wait() -> None:
    """`wait_buffered` before `start`, and for a file: `read` waits."""


def _nothing_read() -> Collection[bytes]:
    """`read_buffered` before `start`, and for a file (read in a thread): nothing ever waits."""
    return ()


def __getattr__(name: str) -> Any:
    # The client's side (`stdio_client`), loaded on first use: a stdio server's start never reads it,
    # nor what it stands on (`plain`).
    if name == "StdioClientTransport":
        from .stdio_client import StdioClientTransport

        globals()[name] = StdioClientTransport
        return StdioClientTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "StdioClientTransport"})
