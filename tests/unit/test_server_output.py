"""`transports.server_output`: the stdio client's reading of the server's stdout, fed chunks as the loop
would feed them (no process: the protocol's callbacks are called directly, its pipes are recorders).

Answers are taken as they are read; what is not taken waits in order, and every line after it waits
behind it until the reading task is done with it; reading pauses while too much waits; a `take` that
raises leaves the line for the reading task; EOF comes after the last waiting line. Over a real pipe on
asyncio's loop, reads stay small enough to need no memory mapped per read.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from mcpbind.protocol.endpoint import Oversized
from mcpbind.transports.pipes import READ_SIZE
from mcpbind.transports.server_output import WAITING_HIGH, ServerOutput

from ..stdio_support import filled_pipe


class _Pipe:
    def __init__(self) -> None:
        self.paused = False
        self.closing = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def is_closing(self) -> bool:
        return self.closing


def _output(max_line: int = 1 << 20, oversized: Any = None) -> tuple[ServerOutput, _Pipe]:
    output = ServerOutput(max_line, oversized or (lambda line: None), asyncio.get_running_loop())
    pipe = _Pipe()
    output.connection_made(pipe)  # type: ignore[arg-type]
    return output, pipe


def test_answers_are_taken_as_read_and_the_rest_waits_in_order() -> None:
    async def main() -> None:
        output, _ = _output()
        taken: list[bytes] = []
        output.take = lambda line: line.startswith(b"answer") and (taken.append(line) or True)
        # A chunk with lines split across it, and a blank line (dropped).
        output.data_received(b"answer 1\nanswer 2\nans")
        output.data_received(b"wer 3\n\nnotice 1\nanswer 4\n")
        assert taken == [b"answer 1", b"answer 2", b"answer 3"]
        # The notice waits; the answer after it waits behind it, not taken past it.
        assert list(output.waiting) == [b"notice 1", b"answer 4"]
        assert await output.first() == b"notice 1"
        output.data_received(b"answer 5\n")  # read while the notice is being handled
        assert list(output.waiting) == [b"notice 1", b"answer 4", b"answer 5"] and len(taken) == 3
        output.done()
        assert await output.first() == b"answer 4"
        output.done()
        output.done()
        output.data_received(b"answer 6\n")  # nothing waits: taken as read again
        assert taken[-1] == b"answer 6" and not output.waiting

    asyncio.run(main())


def test_the_reading_task_waits_for_a_line_and_gets_none_after_the_last() -> None:
    async def main() -> None:
        output, _ = _output()
        first = asyncio.ensure_future(output.first())
        await asyncio.sleep(0)
        assert not first.done()
        output.data_received(b"notice\n")
        assert await asyncio.wait_for(first, 10) == b"notice"
        output.eof_received()
        assert await output.first() == b"notice"  # still there: EOF comes after it
        output.done()
        assert await asyncio.wait_for(output.first(), 10) is None

    asyncio.run(main())


def test_reading_pauses_while_too_much_waits_and_resumes_at_half() -> None:
    async def main() -> None:
        output, pipe = _output()
        line = b"n" * 1023 + b"\n"
        chunk = line * 64  # 64 KiB of notifications, none taken
        while output.waiting_bytes + 64 * 1023 <= WAITING_HIGH:
            output.data_received(chunk)
        while output.waiting_bytes + 1023 <= WAITING_HIGH:
            output.data_received(line)
        assert not pipe.paused  # at the mark, not over it
        output.data_received(line)
        assert pipe.paused and output.paused
        count = len(output.waiting)
        while pipe.paused:
            assert await output.first() == line[:-1]
            output.done()
        assert output.waiting_bytes <= WAITING_HIGH // 2 and len(output.waiting) > count // 3

    asyncio.run(main())


def test_a_take_that_fails_leaves_the_line_for_the_reading_task() -> None:
    async def main() -> None:
        output, _ = _output()

        def take(line: bytes) -> bool:
            raise RuntimeError("a bug")

        output.take = take
        output.data_received(b"one\ntwo\n")
        assert list(output.waiting) == [b"one", b"two"]  # nothing lost, in order

    asyncio.run(main())


def test_an_oversized_line_becomes_what_oversized_says() -> None:
    async def main() -> None:
        seen: list[Oversized] = []

        def oversized(line: Oversized) -> bytes | None:
            seen.append(line)
            return b"instead" if len(seen) == 1 else None

        output, _ = _output(max_line=16, oversized=oversized)
        output.data_received(b"x" * 40 + b"\nsmall\n" + b"y" * 20)
        output.data_received(b"y" * 20 + b"\nlast\n")
        assert [line.size for line in seen] == [40, 40]
        assert list(output.waiting) == [b"instead", b"small", b"last"]

    asyncio.run(main())


def test_a_real_pipe_is_read_in_pieces_glibc_serves_from_the_heap() -> None:
    """On asyncio's loop the pipe transport would read up to 256 KiB at once, each read a fresh mapping
    (mmap, page fault, munmap, on every answer the client reads); the client's reader asks for
    `READ_SIZE` at most, as a server's stdin reader does, and a long answer still arrives whole."""
    sizes: list[int] = []

    class Counted(ServerOutput):
        def data_received(self, data: bytes) -> None:
            sizes.append(len(data))
            super().data_received(data)

    async def main() -> None:
        line = b"z" * (300 * 1024)
        read_fd, write_fd = filled_pipe(line + b"\n")
        output = Counted(1 << 20, lambda line: None, asyncio.get_running_loop())
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: output, os.fdopen(read_fd, "rb", buffering=0)
        )
        try:
            assert await asyncio.wait_for(output.first(), 10) == line
            assert len(sizes) > 1 and max(sizes) <= READ_SIZE and sum(sizes) == len(line) + 1
        finally:
            transport.close()
            os.close(write_fd)

    asyncio.run(main())
