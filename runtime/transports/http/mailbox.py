"""The queue of one SSE stream: what is sent on it and not yet written out, counted in bytes, with one
reader (the stream's writer) and writers that may wait for it to shrink (`Stream.drained`)."""

from __future__ import annotations

import asyncio
from collections import deque

import msgspec

__all__ = ["Mailbox"]


class Mailbox(msgspec.Struct, eq=False):
    """The queue of one stream: a deque, and a future only while its one reader waits (an
    asyncio.Queue per request cost a tenth of answering a stateless call). A Struct, as `Stream`."""

    items: deque[tuple[bytes, bool]] = msgspec.field(default_factory=deque)
    waiter: asyncio.Future[None] | None = None
    size: int = 0
    """Bytes of the messages queued (what bounds a stream whose client reads slowly, `Stream.limit`)."""
    space: asyncio.Event | None = None
    """Set while writers wait for the queue to shrink (`Stream.drained`)."""
    space_since: float = 0.0
    """When `space` was made: the queue has not shrunk since, while a writer waited for it to."""

    def put_nowait(self, item: tuple[bytes, bool]) -> None:
        self.items.append(item)
        self.size += len(item[0])
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self.items

    def get_nowait(self) -> tuple[bytes, bool]:
        item = self.items.popleft()
        self.size -= len(item[0])
        if self.space is not None:
            self.wake_senders()
        return item

    def taken(self) -> None:
        """Its reader took everything queued (`items` cleared in place): writers waiting for space go on."""
        self.size = 0
        if self.space is not None:  # (rare: a writer waits for space)
            self.wake_senders()

    def wake_senders(self) -> None:
        """Writers waiting for space look again (the queue shrank, or its stream ended)."""
        space = self.space
        if space is not None:
            self.space = None
            space.set()

    async def get(self) -> tuple[bytes, bool]:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.get_nowait()

    async def get_within(self, timeout: float) -> tuple[bytes, bool] | None:
        """The next item, or None if none came within `timeout` seconds: one future and one timer
        (`asyncio.wait_for(get())` makes a task of the wait, every time a stream waits)."""
        if not self.items:
            loop = asyncio.get_running_loop()
            waiter = self.waiter = loop.create_future()
            timer = loop.call_later(timeout, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self.waiter = None
            if not self.items:
                return None
        return self.get_nowait()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
