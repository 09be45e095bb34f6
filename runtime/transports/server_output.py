"""A stdio client's reading of its server's stdout: lines framed as the loop reads them, answers taken there.

Read through asyncio's subprocess streams (`StreamReader.read`), every chunk of the server's output was
copied into the reader's buffer and out again, and the reading task was woken for it, a loop turn
before any answer in it was looked at. `ServerOutput` frames a chunk as the loop hands it over
(`ClippingLineBuffer`) and offers each line to `take` (the client's: a plain answer to one of its
requests resolves the request's future there and then). Only what `take` leaves (the server's requests
and notifications, error answers: the rare messages) waits, in order, for the reading task, woken once
per chunk that left something. Order holds: while a message waits for the reading task or is being
handled by it, the lines after it wait behind it instead of being taken.
"""

from __future__ import annotations

import asyncio
import asyncio.subprocess
from collections import deque
from collections.abc import Callable
from typing import Final

from ..protocol.endpoint import ClippingLineBuffer, Oversized

__all__ = ["WAITING_HIGH", "ServerOutput"]

WAITING_HIGH: Final = 1024 * 1024
"""Bytes of messages waiting for the reading task beyond which reading the server's stdout pauses
(resumed at half): a server that floods the client with notifications waits on its full pipe rather
than the client's memory growing."""


class ServerOutput(asyncio.subprocess.SubprocessStreamProtocol):
    """The protocol of a stdio client's subprocess: its stdout read as described above; its stdin and
    stderr stay asyncio's (`asyncio.subprocess.Process` over it works as usual, `stdout` aside), the
    stdin's flow control also told in `writing_paused`.

    `oversized`: what a line over `max_line` becomes, a message to handle in its place or None (it
    was dealt with)."""

    def __init__(
        self,
        max_line: int,
        oversized: Callable[[Oversized], bytes | None],
        limit: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(limit=limit, loop=loop)
        self.loop = loop
        self.pipes: asyncio.SubprocessTransport | None = None
        self.framing = ClippingLineBuffer(max_line)
        self.oversized = oversized
        self.take: Callable[[bytes], bool] | None = None
        """Offered each line first, as it is read (None: every line waits for the reading task)."""
        self.waiting: deque[bytes] = deque()
        """Lines for the reading task, oldest first; the one it is handling stays first until `done`."""
        self.waiting_bytes = 0
        self.eof = False
        self.paused = False
        self.writing_paused = False
        """The server's stdin holds more than its high-water mark unread (a write would wait)."""
        self._waiter: asyncio.Future[None] | None = None

    def pause_writing(self) -> None:
        super().pause_writing()
        self.writing_paused = True

    def resume_writing(self) -> None:
        super().resume_writing()
        self.writing_paused = False

    def stdin_closing(self) -> bool:
        """Whether the server's stdin is closing (what is written then is dropped, never waited on)."""
        pipe = self.pipes.get_pipe_transport(0) if self.pipes is not None else None
        return pipe is None or pipe.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.pipes = transport  # type: ignore[assignment]

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        if fd != 1:
            super().pipe_data_received(fd, data)  # stderr: asyncio's stream
            return
        assert isinstance(data, bytes)
        waiting, take = self.waiting, self.take
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
                        continue
                except Exception:
                    # Not here, in the loop's callback, where it would be logged and the chunk's
                    # other lines lost: the reading task offers the line again and fails as it would.
                    pass
            waiting.append(line)
            self.waiting_bytes += len(line)
        if waiting:
            if self.waiting_bytes > WAITING_HIGH:
                self._pause(True)
            self._wake()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        super().pipe_connection_lost(fd, exc)
        if fd == 1:
            self.eof = True
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

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _pause(self, pause: bool) -> None:
        pipe = self.pipes.get_pipe_transport(1) if self.pipes is not None else None
        if pause == self.paused or pipe is None or pipe.is_closing():
            return
        self.paused = pause
        reading: asyncio.ReadTransport = pipe  # type: ignore[assignment]
        if pause:
            reading.pause_reading()
        else:
            reading.resume_reading()
