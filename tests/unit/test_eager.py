"""`mcpbind.aio.eager.start`: inline when a coroutine never waits, an ordinary task from its first wait on."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable

import pytest

from mcpbind.aio import eager

from ..peer_support import RecordingTransport

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="caller")


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_a_coroutine_that_never_waits_finishes_inline_with_no_task() -> None:
    async def main() -> None:
        done: list[str] = []

        async def handler() -> None:
            done.append("ran")

        before = len(asyncio.all_tasks())
        assert eager.start(handler()) is None
        assert done == ["ran"]  # before any turn of the loop
        assert len(asyncio.all_tasks()) == before

    run(main())


def test_a_coroutine_that_waits_is_carried_on_by_a_task_from_where_it_stopped() -> None:
    async def main() -> None:
        steps: list[str] = []
        gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def handler() -> None:
            steps.append("before")
            steps.append(await gate)
            await asyncio.sleep(0)  # a bare yield too
            steps.append("after")

        task = eager.start(handler())
        assert task is not None and steps == ["before"]
        await asyncio.sleep(0)
        assert not task.done()
        gate.set_result("value")
        await asyncio.wait_for(task, 1)
        assert steps == ["before", "value", "after"]

    run(main())


def test_cancelling_the_task_reaches_the_coroutine() -> None:
    async def main() -> None:
        seen: list[str] = []

        async def handler() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

        task = eager.start(handler())
        assert task is not None
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen == ["cancelled"] and task.cancelled()

    run(main())


def test_exceptions_before_the_first_wait_reach_the_caller_and_after_it_the_task() -> None:
    async def main() -> None:
        async def fails_at_once() -> None:
            raise ValueError("now")

        with pytest.raises(ValueError, match="now"):
            eager.start(fails_at_once())

        async def fails_later() -> None:
            await asyncio.sleep(0)
            raise ValueError("later")

        task = eager.start(fails_later())
        assert task is not None
        with pytest.raises(ValueError, match="later"):
            await task

    run(main())


def test_context_changes_stay_with_the_coroutine_across_its_waits() -> None:
    async def main() -> None:
        seen: list[str] = []

        async def handler(value: str) -> None:
            VAR.set(value)
            await asyncio.sleep(0)
            seen.append(VAR.get())

        first = eager.start(handler("one"))
        second = eager.start(handler("two"))
        assert VAR.get() == "caller"  # nothing leaked into the caller
        assert first is not None and second is not None
        await asyncio.gather(first, second)
        assert seen == ["one", "two"]

    run(main())


def test_a_peer_bounds_waiting_handlers_and_not_inline_ones() -> None:
    """`Peer(max_concurrency=2, max_queued=1)`: past two waiting handlers a request is queued, and past
    the queue refused; reading never pauses. Handlers that answer at once never count."""
    from mcpbind.aio.peer import Peer
    from mcpbind.protocol.endpoint import IncomingNotification, IncomingRequest

    async def main() -> None:
        release = asyncio.Event()
        started: list[int] = []

        async def on_request(event: IncomingRequest) -> bytes:
            started.append(int(str(event.id)))
            if event.method == "slow":
                await release.wait()
            return b'{"jsonrpc":"2.0","id":%d,"result":{}}' % int(str(event.id))

        async def on_notification(event: IncomingNotification) -> None:
            return None

        wire = RecordingTransport()
        peer = Peer(
            wire, on_request=on_request, on_notification=on_notification, max_concurrency=2, max_queued=1
        )

        def frame(rid: int, method: str) -> bytes:
            return b'{"jsonrpc":"2.0","id":%d,"method":"%s"}' % (rid, method.encode())

        for rid in range(1, 11):  # ten inline answers: none waits, none counts
            await peer.feed(frame(rid, "fast"))
        assert len(wire.out) == 10
        await peer.feed(frame(11, "slow"))
        await peer.feed(frame(12, "slow"))
        assert not peer.saturated
        await asyncio.wait_for(peer.feed(frame(13, "slow")), 1)  # queued: taken at once
        assert started[-1] == 12 and peer.saturated
        await asyncio.wait_for(peer.feed(frame(14, "fast")), 1)  # refused at once
        assert b'"id":14' in wire.out[-1] and b"-32000" in wire.out[-1]
        release.set()
        for _ in range(50):
            if len(wire.out) == 14:
                break
            await asyncio.sleep(0.01)
        assert len(wire.out) == 14 and started[-1] == 13 and not peer.saturated

    run(main())


def test_a_task_cancelled_before_its_first_step_cancels_the_coroutine() -> None:
    """The task that carries a started coroutine on may be cancelled before it ever runs (a request
    cancelled in the same read that started it): the cancellation reaches the coroutine, and what the
    carrier does on the way out runs, instead of both being left suspended forever."""

    async def main() -> None:
        seen: list[str] = []

        async def handler() -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append("handler cancelled")
                raise

        async def carry(rest: Awaitable[None]) -> None:
            try:
                await rest
            finally:
                seen.append("carrier ended")

        _, task = eager.begin(handler(), carry)
        assert task is not None
        task.cancel()  # before the task's first step
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen == ["handler cancelled", "carrier ended"]

    run(main())


def test_begin_gives_the_result_inline_or_to_the_task_that_carries_the_rest() -> None:
    async def main() -> None:
        gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        results: list[int] = []

        async def at_once() -> int:
            return 7

        async def handler() -> int:
            return await gate * 2

        async def carry(rest: Awaitable[int]) -> None:
            results.append(await rest)

        assert eager.begin(at_once(), carry) == (7, None)
        value, task = eager.begin(handler(), carry)
        assert value is None and task is not None
        await asyncio.sleep(0)
        gate.set_result(21)
        await asyncio.wait_for(task, 1)
        assert results == [42]

    run(main())


def test_peer_answer_hands_back_an_inline_answer_and_sends_a_waiting_one() -> None:
    from mcpbind.aio.peer import Peer
    from mcpbind.protocol.endpoint import IncomingNotification, IncomingRequest

    async def main() -> None:
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def on_request(event: IncomingRequest) -> bytes | None:
            if event.method == "slow":
                await gate
            if event.method == "silent":
                return None
            return f"answer {event.id}".encode()

        async def on_notification(event: IncomingNotification) -> None:
            return None

        ended: list[object] = []

        class Recording(Peer):
            def abandoned(self, event: IncomingRequest) -> None:
                ended.append(event.id)

        sink = RecordingTransport()
        peer = Recording(sink, on_request=on_request, on_notification=on_notification)
        before = len(asyncio.all_tasks())
        assert await peer.answer(IncomingRequest(1, "fast", None)) == b"answer 1"
        assert sink.out == [] and len(asyncio.all_tasks()) == before  # no task, nothing sent
        assert await peer.answer(IncomingRequest(2, "silent", None)) is None
        assert ended == [2]  # no answer will come: the transport hears of it
        assert await peer.answer(IncomingRequest(3, "slow", None)) is None
        assert 3 in peer.running
        # A second request with an id still in use is refused, not run.
        assert await peer.answer(IncomingRequest(3, "fast", None)) is None
        assert len(sink.out) == 1 and b"already in use" in sink.out[0]
        gate.set_result(None)
        for _ in range(10):
            await asyncio.sleep(0)
        assert sink.out[1:] == [b"answer 3"] and not peer.running and peer.is_idle()

    run(main())
