"""Test support for the asyncio peer: in-memory message transports, the lines they give, and waiting
for a condition a turn of the loop at a time."""

from __future__ import annotations

import asyncio
from collections import deque


class RecordingTransport:
    """A message transport that reads nothing and keeps what the peer sends (in `out`)."""

    def __init__(self) -> None:
        self.out: list[bytes] = []

    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        self.out.append(data)

    async def close(self) -> None:
        return None


class MemoryLines:
    """Lines given from memory, as a buffered transport reads them: all that waits at once
    (`read_buffered`), or one at a time (`read_line`, waiting for `give` while there is none)."""

    def __init__(self, lines: list[bytes] | None = None) -> None:
        self.lines: deque[bytes] = deque(lines or ())
        self.more: asyncio.Future[None] | None = None
        self.ended = False

    def give(self, *lines: bytes, end: bool = False) -> None:
        self.lines.extend(lines)
        self.ended = end
        if self.more is not None and not self.more.done():
            self.more.set_result(None)

    def read_buffered(self) -> list[bytes]:
        taken = list(self.lines)
        self.lines.clear()
        return taken

    async def read_line(self) -> bytes | None:
        while not self.lines:
            if self.ended:
                return None
            self.more = asyncio.get_running_loop().create_future()
            await self.more
        return self.lines.popleft()


def frame(rid: int, method: str) -> bytes:
    return b'{"jsonrpc":"2.0","id":%d,"method":"%s"}' % (rid, method.encode())


def answer(rid: object) -> bytes:
    return b'{"jsonrpc":"2.0","id":%d,"result":{}}' % int(str(rid))


async def settle(check: object, turns: int = 200) -> None:
    """Until `check()` holds, a turn of the loop at a time; an AssertionError after `turns`."""
    for _ in range(turns):
        if callable(check) and check():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")
