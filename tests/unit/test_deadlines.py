"""`aio.deadlines`: request timeouts from one loop timer per timeout value, each at its own deadline."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from mcpbind.aio.deadlines import Awaited, Deadlines


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_each_request_expires_at_its_own_deadline_in_order() -> None:
    async def main() -> list[tuple[int, float]]:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines()
        expired: list[tuple[int, float]] = []
        start = loop.time()
        futures = []
        for i in range(3):
            future: asyncio.Future[None] = loop.create_future()
            future.add_done_callback(lambda f, i=i: expired.append((i, loop.time() - start)))
            deadlines.add(future, 0.2)
            futures.append(future)
            await asyncio.sleep(0.1)
        for future in futures:
            with pytest.raises(TimeoutError):
                await future
        return expired

    expired = _run(main())
    assert [i for i, _ in expired] == [0, 1, 2]
    # Sent 0.1 s apart with 0.2 s each: none expires before its own deadline.
    for i, at in expired:
        assert at >= 0.1 * i + 0.2 - 0.01


def test_answered_requests_never_fail_and_the_one_behind_still_expires() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines()
        answered: asyncio.Future[int] = loop.create_future()
        waiting: asyncio.Future[int] = loop.create_future()
        deadlines.add(answered, 0.05)
        deadlines.add(waiting, 0.05)
        answered.set_result(1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(waiting, 10)
        await asyncio.sleep(0.1)
        assert answered.result() == 1
        assert len(deadlines) == 0

    _run(main())


def test_different_timeouts_keep_their_own_order() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines()
        slow: asyncio.Future[None] = loop.create_future()
        fast: asyncio.Future[None] = loop.create_future()
        deadlines.add(slow, 30.0)
        deadlines.add(fast, 0.05)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(fast, 10)
        assert not slow.done()
        deadlines.close()
        await asyncio.sleep(0.01)
        assert not slow.done()  # closed: no timer is left to fire

    _run(main())


def test_a_long_request_at_the_front_does_not_let_answered_ones_pile_up() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines()
        long: asyncio.Future[None] = loop.create_future()
        deadlines.add(long, 60.0)
        for _ in range(10_000):
            future: asyncio.Future[None] = loop.create_future()
            deadlines.add(future, 60.0)
            future.set_result(None)
        assert len(deadlines) <= 512
        assert not long.done()
        deadlines.close()

    _run(main())


def test_a_queue_kept_across_close_still_expires_what_is_added_to_it() -> None:
    # A caller may keep a timeout's queue (`Deadlines.expiry`, as a connection does); once the
    # deadlines are closed, what is added to it still expires, on a timer armed anew.
    async def main() -> None:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines()
        expiry = deadlines.expiry(0.05, loop)
        first: asyncio.Future[None] = loop.create_future()
        expiry.add(first)
        deadlines.close()
        later: asyncio.Future[None] = loop.create_future()
        expiry.add(later)
        await asyncio.wait([later], timeout=5)
        assert later.done() and isinstance(later.exception(), TimeoutError)
        assert not first.done()  # (closing fails nothing: the peer has failed what waited)

    _run(main())


def test_a_queue_of_ids_fails_what_its_table_still_awaits_and_sweeps_by_the_table() -> None:
    # `Awaited`: the queue holds request ids; what is still in the table at its deadline fails (its
    # waiter), what has left the table (answered, forgotten) is dropped, and is swept by the table.
    async def main() -> None:
        loop = asyncio.get_running_loop()
        table: dict[int, Any] = {}
        deadlines = Deadlines()
        expiry = deadlines.expiry(0.05, loop, table)
        assert isinstance(expiry, Awaited)
        assert deadlines.expiry(0.05, loop, table) is expiry
        waiters: dict[int, asyncio.Future[None]] = {}
        for rid in (1, 2, 3):
            waiters[rid] = loop.create_future()
            table[rid] = SimpleNamespace(waiter=waiters[rid])
            expiry.add(rid)
        del table[2]  # answered: its future is no one's business here
        waiters[2].set_result(None)
        table[3].waiter = None  # (an entry nothing waits on)
        await asyncio.wait([waiters[1]], timeout=5)
        assert isinstance(waiters[1].exception(), TimeoutError)
        assert waiters[2].result() is None and not waiters[3].done()
        await asyncio.sleep(0.01)
        assert len(deadlines) == 0
        # Swept once it has grown: what left the table goes, what is in it stays.
        slow = deadlines.expiry(60.0, loop, table)
        table.clear()
        table[0] = SimpleNamespace(waiter=None)
        slow.add(0)
        for rid in range(1, 10_000):
            slow.add(rid)
        assert len(slow.futures) <= 512 and slow.futures[0] == 0
        deadlines.close()

    _run(main())


def test_an_entry_inserted_with_an_earlier_deadline_expires_first_and_on_time() -> None:
    # `Expiry.insert`: a deadline earlier than those queued goes in its place, and the timer, armed
    # for a later one, is armed again for it; one later than them all goes at the end.
    async def main() -> None:
        loop = asyncio.get_running_loop()
        expiry = Deadlines().expiry(10.0, loop)
        late: asyncio.Future[None] = loop.create_future()
        expiry.add(late)  # (at now + 10)
        early: asyncio.Future[None] = loop.create_future()
        middle: asyncio.Future[None] = loop.create_future()
        last: asyncio.Future[None] = loop.create_future()
        now = expiry.clock()
        expiry.insert(middle, now + 0.2)
        expiry.insert(early, now + 0.05)
        expiry.insert(last, now + 20.0)
        assert list(expiry.deadlines) == sorted(expiry.deadlines)
        await asyncio.wait([early], timeout=5)
        assert isinstance(early.exception(), TimeoutError) and not middle.done()
        assert expiry.clock() >= now + 0.05 - 0.01
        await asyncio.wait([middle], timeout=5)
        assert isinstance(middle.exception(), TimeoutError)
        assert expiry.clock() >= now + 0.2 - 0.01
        assert not late.done() and not last.done()
        assert list(expiry.futures) == [late, last]
        assert expiry.timer is not None
        expiry.timer.cancel()

    _run(main())
