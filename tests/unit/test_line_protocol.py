"""The pipe reader a stdio server takes its requests from (`pipes.LineProtocol`), over a real pipe: a
burst of lines is taken in one call (`take_messages`) in order, up to an oversized line's error, which
`take` gives; its byte count and flow control (reading paused past `max_buffered`, resumed once the
lines are taken) follow."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence

from mcpbind.protocol.endpoint import LineBuffer, LineTooLong
from mcpbind.transports.pipes import READ_SIZE, LineProtocol

from ..stdio_support import filled_pipe


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(2000):  # (at most 20 s: the other end is this process's own write)
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the pipe's bytes did not arrive")


async def _reading(protocol: LineProtocol) -> tuple[int, asyncio.BaseTransport]:
    read_fd, write_fd = os.pipe()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: protocol, os.fdopen(read_fd, "rb", buffering=0)
    )
    return write_fd, transport


def test_a_burst_is_taken_at_once_up_to_an_oversized_line() -> None:
    async def main() -> None:
        protocol = LineProtocol(max_line=50)
        write_fd, transport = await _reading(protocol)
        try:
            os.write(write_fd, b"a1\n\nb22\n" + b"x" * 60 + b"\nc333\n  d4444  \n")
            await _until(lambda: len(protocol.lines) == 5)
            assert protocol.buffered == 2 + 3 + 4 + 5 and protocol.oversized == 1
            assert list(protocol.take_messages()) == [b"a1", b"b22"]
            assert isinstance(protocol.take(), LineTooLong)
            assert protocol.oversized == 0 and protocol.buffered == 9
            assert list(protocol.take_messages()) == [b"c333", b"d4444"]
            assert protocol.buffered == 0 and not protocol.take_messages()
            os.write(write_fd, b"e1\nf2\n")
            await _until(lambda: len(protocol.lines) == 2)
            assert list(protocol.take_messages()) == [b"e1", b"f2"] and protocol.buffered == 0
        finally:
            transport.close()
            os.close(write_fd)

    asyncio.run(main())


def test_reading_pauses_past_the_limit_and_resumes_once_the_burst_is_taken() -> None:
    async def main() -> None:
        protocol = LineProtocol(max_line=1000, max_buffered=100)
        write_fd, transport = await _reading(protocol)
        try:
            lines = [b"%03d" % i + b"y" * 20 for i in range(10)]  # 230 bytes of lines
            os.write(write_fd, b"\n".join(lines) + b"\n")
            await _until(lambda: len(protocol.lines) == 10)
            assert protocol.paused and protocol.buffered == 230
            taken = protocol.take_messages()
            assert list(taken) == lines and protocol.buffered == 0 and not protocol.paused
            # Lines that arrive after the burst was taken go to a new queue, not into it.
            os.write(write_fd, b"late\n")
            await _until(lambda: len(protocol.lines) == 1)
            assert list(taken) == lines and list(protocol.take_messages()) == [b"late"]
        finally:
            transport.close()
            os.close(write_fd)

    asyncio.run(main())


def test_reads_on_asyncio_stay_under_the_size_glibc_would_map() -> None:
    """asyncio's pipe transport would read up to 256 KiB at once, each read a fresh mapping (mmap,
    page fault, munmap); the reader asks for `READ_SIZE` at most, and a long line still arrives whole."""
    sizes: list[int] = []

    class Counted(LineProtocol):
        def data_received(self, data: bytes) -> None:
            sizes.append(len(data))
            super().data_received(data)

    async def main() -> None:
        line = b"z" * (300 * 1024)
        read_fd, write_fd = filled_pipe(line + b"\n")
        protocol = Counted(max_line=1 << 20)
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: protocol, os.fdopen(read_fd, "rb", buffering=0)
        )
        try:
            await _until(lambda: len(protocol.lines) == 1)
            assert protocol.take() == line
            assert len(sizes) > 1 and max(sizes) <= READ_SIZE and sum(sizes) == len(line) + 1
        finally:
            transport.close()
            os.close(write_fd)

    asyncio.run(main())


def test_a_reader_waits_on_a_future_only_while_nothing_waits() -> None:
    """`waiting`: a future while no line waits and the input goes on, done when a line, an oversized
    line's error or the end arrives; None while any of those is there (what `take_messages` leaves,
    the error and the end, is `take`'s and `read`'s to give)."""

    async def main() -> None:
        protocol = LineProtocol(max_line=50)
        write_fd, transport = await _reading(protocol)
        try:
            waiter = protocol.waiting()
            assert waiter is not None and not waiter.done()
            os.write(write_fd, b"a1\n")
            await asyncio.wait_for(waiter, 20)
            assert protocol.waiting() is None and list(protocol.take_messages()) == [b"a1"]
            waiter = protocol.waiting()
            assert waiter is not None
            os.write(write_fd, b"x" * 60 + b"\n")
            await asyncio.wait_for(waiter, 20)
            assert not protocol.take_messages() and protocol.waiting() is None
            assert isinstance(protocol.take(), LineTooLong)
            waiter = protocol.waiting()
            assert waiter is not None
            os.close(write_fd)
            write_fd = -1
            await asyncio.wait_for(waiter, 20)
            assert protocol.eof and protocol.waiting() is None and not protocol.take_messages()
        finally:
            transport.close()
            if write_fd >= 0:
                os.close(write_fd)

    asyncio.run(main())


def test_a_lone_line_is_framed_as_a_burst_is() -> None:
    """One whole line (a request at a time) is framed without a split, as in a burst: trimmed, a
    blank one dropped, one over the limit refused."""
    buffer = LineBuffer(10)
    assert buffer.feed(b"  ab \r\n") == [b"ab"]
    assert buffer.feed(b" \t\n") == []
    assert buffer.feed(b"c\n\nd \n") == [b"c", b"d"]
    assert buffer.feed(b"0123456789\n") == [b"0123456789"]
    [too_long] = buffer.feed(b"0123456789a\n")
    assert isinstance(too_long, LineTooLong)
    assert buffer.feed(b"e\n") == [b"e"]
    assert buffer.feed(b"\n") == [] and buffer.feed(b"f\n\n") == [b"f"] and buffer.feed(b"\ng\n") == [b"g"]


CHUNKS = [
    b"a1\n",  # one whole line
    b"  b2 \r\n",
    b" \t\n",  # a blank line alone
    b"c3\n\nd4 \n",  # a burst, a blank line among it
    b"e5\n\n",
    b"\nf6\n",
    b"g7",  # a line in parts
    b"g7\n",
    b"h8\ni9",
    b"\n",
    b"0123456789\n",  # at the limit
    b"0123456789a\n",  # over it, alone
    b"j10\n",
    b"01234567",  # over it in parts, then skipped
    b"89ab\nk11\n",
    b"l12\n",
]


def test_what_the_reader_is_handed_is_what_the_line_buffer_frames() -> None:
    """A read the reader's own service is handed (a lone whole line without `feed`'s call, a burst
    split in the callback) gives it the lines `LineBuffer.feed` frames, in order, whatever it leaves
    queued; and with no service, or the reader not waiting, they are queued as framed."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for leave in (False, True, None):  # (it serves all; leaves all; there is no service)
            protocol, reference = LineProtocol(max_line=10), LineBuffer(10)
            handed: list[list[bytes | LineTooLong]] = []

            def serve(
                lines: Sequence[bytes | LineTooLong],
                leave: bool | None = leave,
                handed: list[list[bytes | LineTooLong]] = handed,
            ) -> Sequence[bytes | LineTooLong]:
                handed.append(list(lines))
                return lines if leave else ()

            protocol.serve = None if leave is None else serve
            expected: list[bytes | LineTooLong] = []
            got: list[bytes | LineTooLong] = []
            for at, chunk in enumerate(CHUNKS):
                framed = reference.feed(chunk)
                expected.extend(framed)
                waiting = at % 3 != 2  # (now and then the reader does not wait: all is queued)
                protocol.waiter = loop.create_future() if waiting else None
                before = len(handed)
                protocol.data_received(chunk)
                now = [line for burst in handed[before:] for line in burst]
                queued = list(protocol.lines)
                protocol.lines.clear()
                protocol.buffered = protocol.oversized = 0
                if leave is None or not waiting:
                    assert now == []
                    got.extend(queued)
                else:
                    assert len(handed) == before + (1 if framed else 0), chunk
                    assert queued == (now if leave else []), chunk  # (what it leaves is queued)
                    got.extend(now)
            assert [_same(line) for line in got] == [_same(line) for line in expected], leave

    asyncio.run(main())


def _same(line: bytes | LineTooLong) -> object:
    return line if type(line) is bytes else type(line)
