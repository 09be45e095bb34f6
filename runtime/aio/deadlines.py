"""Request timeouts without a loop timer per request: one timer per timeout value, over a queue of deadlines.

A timer per request costs a `TimerHandle`, a push onto the event loop's heap (comparisons in Python)
and a cancellation, whose handle stays in the heap until it reaches the front or half the heap is dead;
all that for a timer that almost never fires. Requests sent with the same timeout expire in the order
they were sent, so each timeout value keeps a FIFO of deadlines and their futures and one loop timer,
armed for the oldest. Every request still expires at its own deadline, exactly
as `loop.call_later(timeout, ...)` would have it; answered requests are dropped when the timer fires,
or swept out together once enough have piled up (adding a request looks at none of them).
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

__all__ = ["Awaited", "Deadlines", "Expiry", "Expiring"]

_COMPACT_AT: Final = 256
"""Entries a queue may hold before answered ones behind a waiting front are swept out."""
_RESOLUTION: Final = time.get_clock_info("monotonic").resolution
"""The loop runs a timer this close to its time (as asyncio does): a deadline within it has passed."""


class Expiring(Protocol):
    """What an `Expiry` fails at its deadline: a future, or anything else that says whether it is done
    and is told when its time is up (a request body being read, `transports.http.bodies`)."""

    def done(self) -> bool: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


class Deadlines:
    """The timeouts of one peer's requests: `add(future, timeout)` fails `future` with `TimeoutError`
    once `timeout` seconds have passed, unless it is done by then."""

    __slots__ = ("_queues",)

    def __init__(self) -> None:
        self._queues: dict[float, Expiry] = {}

    def add(self, future: asyncio.Future[Any], timeout: float) -> None:
        self.expiry(timeout, future.get_loop()).add(future)

    def expiry(
        self, timeout: float, loop: asyncio.AbstractEventLoop, awaited: Mapping[Any, Any] | None = None
    ) -> Expiry:
        """The queue of the requests sent on `loop` with `timeout`, for a caller that adds many to it
        (keeping it saves looking it up per request; it lasts until `close`). With `awaited`, an
        `Awaited` queue of request ids, whose futures are those of that table (one `Deadlines` is
        for one kind of queue: made with `awaited` or without it, always)."""
        queue = self._queues.get(timeout)
        if queue is None or queue.loop is not loop:
            made = Expiry(loop, timeout) if awaited is None else Awaited(loop, timeout, awaited)
            queue = self._queues[timeout] = made
        return queue

    def close(self) -> None:
        """Stop every timer (the peer closed: what waited has failed already)."""
        for queue in self._queues.values():
            if queue.timer is not None:
                queue.timer.cancel()
                queue.timer = None  # (a queue kept by a caller arms a timer anew if added to)
            queue.futures.clear()
            queue.deadlines.clear()
        self._queues.clear()

    def __len__(self) -> int:
        """Entries held, answered ones not yet dropped included (for tests: it stays bounded)."""
        return sum(len(queue.futures) for queue in self._queues.values())


_pending = operator.methodcaller("done")


class Expiry:
    """The deadlines of the requests sent with one timeout: in the order sent, hence of their deadlines.

    Answered requests are not looked for as requests are added (most are answered, in about the order
    sent): they are dropped when the timer fires, or swept out, all at once, when the queue has grown
    to `compact_at` entries (the sweep runs in C: `futures` and `deadlines` are parallel queues)."""

    __slots__ = ("clock", "compact_at", "deadlines", "futures", "loop", "timeout", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        # The loop's time. asyncio's own loop reads `time.monotonic` in a Python method: read
        # directly, one frame less per request.
        self.clock: Callable[[], float] = (
            time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        )
        self.timeout = timeout
        self.futures: deque[Any] = deque()
        """What expires, in the order added: `Expiring`s (an `Awaited` queue: request ids)."""
        self.deadlines: deque[float] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.compact_at = _COMPACT_AT

    def add(self, future: Expiring) -> None:
        """Fail `future` with `TimeoutError` once this queue's timeout has passed, unless done by then."""
        futures = self.futures
        futures.append(future)
        self.deadlines.append(self.clock() + self.timeout)
        if len(futures) >= self.compact_at:
            self.compact()
        if self.timer is None:
            self.arm()

    def insert(self, item: Any, deadline: float) -> None:
        """Fail `item` at `deadline` (this queue's clock), which may be earlier than that of entries
        added before it (a request whose deadline counts from before a wait that ended later than
        theirs): put in its place by deadline, not at the end. Entries added in order cost as `add`."""
        futures, deadlines = self.futures, self.deadlines
        at = len(deadlines)
        while at and deadlines[at - 1] > deadline:
            at -= 1
        futures.insert(at, item)
        deadlines.insert(at, deadline)
        if len(futures) >= self.compact_at:
            self.compact()  # (`item` stays, at the front if it was: it is waiting)
        if self.timer is None:
            self.arm()
        elif not at:  # the timer runs for a later deadline than this one's
            self.timer.cancel()
            self.arm()

    def arm(self) -> None:
        """Start the timer, for the oldest deadline (when none is running)."""
        self.timer = self.loop.call_at(self.deadlines[0], self.fire)

    def compact(self) -> None:
        """Sweep out the answered requests (amortized: the next sweep waits until the queue has
        doubled again, or reached `_COMPACT_AT`)."""
        waiting = list(map(operator.not_, map(_pending, self.futures)))
        self.futures = deque(itertools.compress(self.futures, waiting))
        self.deadlines = deque(itertools.compress(self.deadlines, waiting))
        self.compact_at = max(_COMPACT_AT, 2 * len(self.futures))

    def fire(self) -> None:
        now = self.loop.time() + _RESOLUTION
        futures, deadlines = self.futures, self.deadlines
        while futures and (deadlines[0] <= now or futures[0].done()):
            future = futures.popleft()
            deadlines.popleft()
            if not future.done():
                future.set_exception(TimeoutError())
        self.timer = self.loop.call_at(deadlines[0], self.fire) if futures else None


class Awaited(Expiry):
    """An `Expiry` of requests kept by id rather than by future: `futures` holds the ids, and `table`
    (a peer's requests awaiting their answers, by id: `Endpoint.table`) their futures, as the
    `waiter` of each entry. An answered request has left the table, and its id is all the queue still
    holds of it: its future, and the result that future carries, are freed as soon as the caller is
    done with them, not kept until the timer fires or the queue is swept (up to `compact_at` results
    of a busy client alive for nothing, and the collections of the garbage collector that keeps
    looking at them)."""

    __slots__ = ("table",)

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float, table: Mapping[Any, Any]) -> None:
        super().__init__(loop, timeout)
        self.table = table

    def compact(self) -> None:
        waiting = list(map(self.table.__contains__, self.futures))
        self.futures = deque(itertools.compress(self.futures, waiting))
        self.deadlines = deque(itertools.compress(self.deadlines, waiting))
        self.compact_at = max(_COMPACT_AT, 2 * len(self.futures))

    def fire(self) -> None:
        now = self.loop.time() + _RESOLUTION
        ids, deadlines, table = self.futures, self.deadlines, self.table
        while ids and (deadlines[0] <= now or ids[0] not in table):
            rid = ids.popleft()
            deadlines.popleft()
            pending = table.get(rid)
            if pending is not None:  # still awaited, and its time is up
                future: Expiring | None = pending.waiter
                if future is not None and not future.done():
                    future.set_exception(TimeoutError())
        self.timer = self.loop.call_at(deadlines[0], self.fire) if ids else None
