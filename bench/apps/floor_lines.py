"""The stdio floor's pipes: the cheapest honest way to serve newline-delimited JSON-RPC over them.

As mcpbind's stdio server does it: stdin is an ``asyncio.Protocol`` on ``loop.connect_read_pipe``
(``Lines``; no task, future or stream per message or read), each read split into lines in
``data_received`` and every request of it answered right there, the answers of one read in one write on
``loop.connect_write_pipe``. On asyncio's own loop a pipe is read 64 KiB at a time (as mcpbind's
``pipes.read_small``: a 256 KiB read is a fresh memory mapping each time); uvloop reads into a buffer of
its own. Flow control as mcpbind's: stdin is not read while more than 1 MiB of answers waits for the
client to read them. A line is at most 16 MiB (``LIMIT``, without its newline); blank lines are skipped.
Errors end the floor with the error, as its earlier streams loop (``floor_streams.py``) did (it answers
nothing it cannot read): a longer line with ``ValueError``, a line that is no JSON with the decoder's
error; the end of stdin ends it once what it wrote has gone. ``floor_stdio.py`` serves with it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import msgspec

LIMIT = 1 << 24
"""Bytes of one line at most, without its newline (mcpbind's default ``max_line``, and what the streams
loop gave its ``StreamReader``)."""
READ_SIZE = 64 * 1024
"""The most asyncio's pipe transport reads at a time (its default, 256 KiB, is mapped afresh per read)."""
WRITE_HIGH = 1024 * 1024
"""Bytes of answers buffered for stdout beyond which stdin is not read (mcpbind's ``WRITE_BUFFER_HIGH``)."""


class Lines(asyncio.Protocol):
    """stdin: the requests of each read answered in its callback, their answers in one write."""

    def __init__(
        self,
        out: asyncio.WriteTransport,
        ended: asyncio.Future[None],
        decode: Callable[[bytes], Any],
        answer: Callable[[Any], bytes],
    ) -> None:
        self.out = out
        self.decode, self.answer = decode, answer
        self.ended = ended
        self.transport: asyncio.BaseTransport | None = None
        self.parts: list[bytes] = []  # the start of a line whose newline has not come yet
        self.held = 0  # bytes in `parts`

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if getattr(transport, "max_size", 0) > READ_SIZE:  # (asyncio's loop; uvloop has none)
            transport.max_size = READ_SIZE  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        out: list[bytes] = []
        decode, answer = self.decode, self.answer
        try:
            lines = data.split(b"\n")
            rest = lines.pop()  # what follows the last newline: b"" or the start of a line
            long = len(data) > LIMIT  # (else no line of it can be too long)
            if self.parts:
                if not lines:  # (no newline yet: the line held goes on)
                    self.hold(rest)
                    return
                self.parts.append(lines[0])
                lines[0] = b"".join(self.parts)
                self.parts.clear()
                self.held = 0
                long = long or len(lines[0]) > LIMIT
            over = None
            if long:
                over = next((i for i, line in enumerate(lines) if len(line) > LIMIT), None)
                if over is not None:
                    del lines[over:]  # (those before it are answered first, as the streams loop did)
            for line in lines:
                try:
                    msg = decode(line)
                except msgspec.DecodeError:
                    if line.strip():
                        raise
                    continue  # a blank line
                if msg.id is not None and msg.method is not None:  # (else a notification or a response)
                    out.append(answer(msg))
            if over is not None:
                raise ValueError(f"a line exceeds the limit of {LIMIT} bytes")
            if rest:
                self.hold(rest)
        except Exception as exc:  # (a read callback's error would only be logged: it ends the floor)
            self.fail(exc)
        if out:
            out.append(b"")  # (the newline after the last answer)
            self.out.write(b"\n".join(out))

    def fail(self, exc: Exception) -> None:
        if not self.ended.done():
            self.ended.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def hold(self, part: bytes) -> None:
        self.parts.append(part)
        self.held += len(part)
        if self.held > LIMIT:
            raise ValueError(f"a line exceeds the limit of {LIMIT} bytes")

    def eof_received(self) -> bool | None:
        if self.parts:  # a last line with no newline: read as the streams loop's `readline` gives it
            self.data_received(b"\n")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


class Output(asyncio.Protocol):
    """stdout: stdin's reading paused while the client does not read (`WRITE_HIGH`), and the end."""

    def __init__(self, closed: asyncio.Future[None]) -> None:
        self.closed = closed
        self.reading: asyncio.ReadTransport | None = None

    def pause_writing(self) -> None:
        if self.reading is not None and not self.reading.is_closing():
            self.reading.pause_reading()

    def resume_writing(self) -> None:
        if self.reading is not None and not self.reading.is_closing():
            self.reading.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def serve(decode: Callable[[bytes], Any], answer: Callable[[Any], bytes]) -> None:
    """Serve stdin/stdout until the end of stdin (or an error: raised): each line read with `decode`,
    and a request (a message with an id and a method) answered with `answer`."""
    loop = asyncio.get_running_loop()
    ended, closed = loop.create_future(), loop.create_future()
    out, output = await loop.connect_write_pipe(lambda: Output(closed), sys.stdout)
    out.set_write_buffer_limits(high=WRITE_HIGH)
    output.reading, _ = await loop.connect_read_pipe(lambda: Lines(out, ended, decode, answer), sys.stdin)
    try:
        await ended
    finally:
        out.close()  # (once what is buffered is written)
        await closed
