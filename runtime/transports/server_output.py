"""A stdio client's reading of its server's stdout: lines framed as the loop reads them, answers taken there.

The server's stdout is a pipe of our own, read by `ServerOutput` on the loop (`connect_read_pipe`), not
one of asyncio's subprocess pipes: those hand each chunk on with `call_soon`, a loop turn between the
read and the first look at an answer in it (one of four turns per call at one call in flight). A chunk
is framed as read (`ClippingLineBuffer`) and each line offered to `take` (the client's: a plain answer
to one of its requests resolves the request's future there and then). Only what `take` leaves (the
server's requests and notifications, error answers: the rare messages) waits, in order, for the
reading task, woken once per chunk that left something. Order holds: while a message waits for the
reading task or is being handled by it, the lines after it wait behind it instead of being taken.

The callers woken by the answers of one chunk run in the next loop turn, and most send their next
request there: a chunk of several answers holds the client's writes (`writes`, which otherwise send
each request at once) until the end of that turn, so those requests go in one system call, with no
turn of their own for the flush.
"""

from __future__ import annotations

import asyncio
import asyncio.subprocess
from collections import deque
from collections.abc import Callable
from typing import Final, Literal

from ..protocol.endpoint import ClippingLineBuffer, Oversized
from .pipes import Batched, read_small

__all__ = ["WAITING_HIGH", "ServerOutput", "ServerProcess"]

WAITING_HIGH: Final = 1024 * 1024
"""Bytes of messages waiting for the reading task beyond which reading the server's stdout pauses
(resumed at half): a server that floods the client with notifications waits on its full pipe rather
than the client's memory growing."""


class ServerProcess(asyncio.subprocess.SubprocessStreamProtocol):
    """The protocol of a stdio client's subprocess (its stdin and stderr: asyncio's streams, so that
    `asyncio.subprocess.Process` works over it as usual), the stdin's flow control also told in
    `resumed`, as the client's writer (`Batched.offer`) reads it."""

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.pipes: asyncio.SubprocessTransport | None = None
        self.resumed: Literal[True] | None = None
        """True while the server's stdin holds more than its high-water mark unread (a write would
        wait: `offer` declines, and the client's `write` queues it and waits), else None."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.pipes = transport  # type: ignore[assignment]

    def pause_writing(self) -> None:
        super().pause_writing()
        self.resumed = True

    def resume_writing(self) -> None:
        super().resume_writing()
        self.resumed = None


class ServerOutput(asyncio.Protocol):
    """The protocol of the server's stdout pipe, read as described above.

    `oversized`: what a line over `max_line` becomes, a message to handle in its place or None (it
    was dealt with)."""

    def __init__(
        self, max_line: int, oversized: Callable[[Oversized], bytes | None], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.loop = loop
        self.pipe: asyncio.ReadTransport | None = None
        self.framing = ClippingLineBuffer(max_line)
        self.oversized = oversized
        self.take: Callable[[bytes], bool] | None = None
        """Offered each line first, as it is read (None: every line waits for the reading task)."""
        self.writes: Batched | None = None
        """The client's writer, held from a chunk that answered requests to the end of the next turn."""
        self.waiting: deque[bytes] = deque()
        """Lines for the reading task, oldest first; the one it is handling stays first until `done`."""
        self.waiting_bytes = 0
        self.eof = False
        self.paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.pipe = transport  # type: ignore[assignment]
        read_small(transport)  # (as a server reads its stdin: no memory mapped per read)

    def data_received(self, data: bytes) -> None:
        waiting, take = self.waiting, self.take
        taken = 0
        for line in self.framing.feed(data):
            if type(line) is not bytes:
                assert isinstance(line, Oversized)
                replaced = self.oversized(line)
                if replaced is None:
                    continue
                line = replaced
            if not waiting and take is not None:
                try:
                    if take(line):
                        taken += 1
                        continue
                except Exception:
                    # Not here, in the loop's callback, where it would be logged and the chunk's
                    # other lines lost: the reading task offers the line again and fails as it would.
                    pass
            waiting.append(line)
            self.waiting_bytes += len(line)
        if taken > 1 and self.writes is not None:
            # The callers just woken run next turn (their wake-ups are queued already): their
            # requests go together after them, in that same turn. (One caller's goes at once.)
            self.writes.hold_for_turn(self.loop)
        if waiting:
            if self.waiting_bytes > WAITING_HIGH:
                self._pause(True)
            self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None  # (the pipe's transport closes)

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True  # (a failed pipe is as good as closed)
        self._wake()

    async def first(self) -> bytes | None:
        """The oldest line waiting (it stays first, and later lines wait behind it, until `done`);
        None once the server's stdout is closed and nothing waits."""
        waiting = self.waiting
        while not waiting:
            if self.eof:
                return None
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return waiting[0]

    def done(self) -> None:
        """The reading task is done with the first line."""
        line = self.waiting.popleft()
        self.waiting_bytes -= len(line)
        if self.paused and self.waiting_bytes <= WAITING_HIGH // 2:
            self._pause(False)

    def close(self) -> None:
        """Stop reading (what is unread is dropped); the reading task gets None once nothing waits."""
        if self.pipe is not None:
            self.pipe.close()
        self.eof = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _pause(self, pause: bool) -> None:
        pipe = self.pipe
        if pause == self.paused or pipe is None or pipe.is_closing():
            return
        self.paused = pause
        if pause:
            pipe.pause_reading()
        else:
            pipe.resume_reading()
