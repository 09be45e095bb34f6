"""`Unread`: the messages an HTTP client transport read off its responses and `read()` has not taken yet,
bounded in bytes: past the bound, the task reading a response waits, so the server's writes wait (TCP's
flow control) instead of the client's memory growing."""

from __future__ import annotations

import asyncio
from typing import Final

__all__ = ["Unread", "DEFAULT_MAX_UNREAD"]

DEFAULT_MAX_UNREAD: Final = 4 * 1024 * 1024
"""Bytes of the server's messages a client transport holds unread before it stops reading its responses."""


class Unread:
    """A queue of messages (None: the end) whose total bytes past `limit` hold up whoever adds one."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        """Bytes of the messages waiting (at most `limit` and the message that went past it, per reader
        adding one)."""
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._room: asyncio.Event | None = None
        """Set when `get` has brought `bytes` back to `limit` (None: no one waits for it)."""

    def put_nowait(self, data: bytes | None) -> None:
        """Add a message (or the end) with no wait: one the transport makes itself (a request's failure,
        the end), which no server can repeat without bound."""
        self._queue.put_nowait(data)
        if data is not None:
            self.bytes += len(data)

    async def put(self, data: bytes) -> None:
        """Add a message read off a response; past the bound, wait until `get` has taken enough."""
        self.put_nowait(data)
        if self.bytes > self.limit:
            room = self._room
            if room is None:
                room = self._room = asyncio.Event()
            await room.wait()

    async def get(self) -> bytes | None:
        data = await self._queue.get()
        if data is not None:
            self.bytes -= len(data)
            room = self._room
            if room is not None and self.bytes <= self.limit:
                room.set()
                self._room = None
        return data
