"""Request timeouts without a loop timer per request: one timer per timeout value, over a queue of deadlines.

A timer per request costs a `TimerHandle`, a push onto the event loop's heap (comparisons in Python)
and a cancellation, whose handle stays in the heap until it reaches the front or half the heap is dead;
all that for a timer that almost never fires. Requests sent with the same timeout expire in the order
they were sent, so each timeout value keeps a FIFO of `(deadline, future)` and one loop timer, armed for
the first deadline whose request still waits. Every request still expires at its own deadline, exactly
as `loop.call_later(timeout, ...)` would have it; an answered request is dropped from the front of its
queue as later ones are added (or compacted away, when one long request holds the front).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

__all__ = ["Deadlines"]

_COMPACT_AT: Final = 256
"""Entries a queue may hold before answered ones behind a waiting front are swept out."""
_RESOLUTION: Final = time.get_clock_info("monotonic").resolution
"""The loop runs a timer this close to its time (as asyncio does): a deadline within it has passed."""


class Deadlines:
    """The timeouts of one peer's requests: `add(future, timeout)` fails `future` with `TimeoutError`
    once `timeout` seconds have passed, unless it is done by then."""

    __slots__ = ("_queues",)

    def __init__(self) -> None:
        self._queues: dict[float, _Queue] = {}

    def add(self, future: asyncio.Future[Any], timeout: float) -> None:
        queue = self._queues.get(timeout)
        loop = future.get_loop()
        if queue is None or queue.loop is not loop:
            queue = self._queues[timeout] = _Queue(loop, timeout)
        # (the queue's own adding, inline: this is every request)
        entries = queue.entries
        while entries and entries[0][1].done():
            entries.popleft()  # answered: most requests are, in about the order they were sent
        entries.append((queue.clock() + timeout, future))
        if len(entries) >= queue.compact_at:
            entries = queue.compact()
        if queue.timer is None:
            queue.timer = loop.call_at(entries[0][0], queue.fire)

    def close(self) -> None:
        """Stop every timer (the peer closed: what waited has failed already)."""
        for queue in self._queues.values():
            if queue.timer is not None:
                queue.timer.cancel()
            queue.entries.clear()
        self._queues.clear()

    def __len__(self) -> int:
        """Entries held, answered ones not yet dropped included (for tests: it stays bounded)."""
        return sum(len(queue.entries) for queue in self._queues.values())


class _Queue:
    """The deadlines of the requests sent with one timeout: in the order sent, hence of their deadlines."""

    __slots__ = ("clock", "compact_at", "entries", "loop", "timeout", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        # The loop's time. asyncio's own loop reads `time.monotonic` in a Python method: read
        # directly, one frame less per request.
        self.clock: Callable[[], float] = (
            time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        )
        self.timeout = timeout
        self.entries: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.compact_at = _COMPACT_AT

    def compact(self) -> deque[tuple[float, asyncio.Future[Any]]]:
        """A request that waits long holds the front: sweep out the answered ones behind it (amortized:
        the next sweep waits until the queue has doubled again). The entries left."""
        self.entries = entries = deque(entry for entry in self.entries if not entry[1].done())
        self.compact_at = max(_COMPACT_AT, 2 * len(entries))
        return entries

    def fire(self) -> None:
        now = self.loop.time() + _RESOLUTION
        entries = self.entries
        while entries and (entries[0][0] <= now or entries[0][1].done()):
            _, future = entries.popleft()
            if not future.done():
                future.set_exception(TimeoutError())
        self.timer = self.loop.call_at(entries[0][0], self.fire) if entries else None
