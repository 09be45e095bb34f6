"""`aio.own.run`: a coroutine in a task of its own from its first step to its end, started at once;
and `signature.never_suspends`, which says which `async def` needs none (its whole run is one step)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import anyio
import pytest

from mcpbind.aio import own
from mcpbind.server.signature import never_suspends


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_first_step_runs_at_once_in_a_task_of_its_own() -> None:
    seen: list[Any] = []

    async def user() -> str:
        seen.append(asyncio.current_task())
        return "done"

    async def main() -> None:
        caller = asyncio.current_task()
        awaitable = own.run(user())
        assert len(seen) == 1 and seen[0] is not caller and seen[0] is not None  # (already run)
        assert await awaitable == "done"
        assert asyncio.current_task() is caller  # (given back to the caller)

    _run(main())


def test_same_task_across_waits_and_anyio_scopes() -> None:
    async def user() -> bool:
        task = asyncio.current_task()
        with anyio.fail_after(5):
            await asyncio.sleep(0)
        async with anyio.create_task_group() as group:
            group.start_soon(asyncio.sleep, 0)
        return asyncio.current_task() is task

    async def main() -> None:
        results = await asyncio.gather(*(own.run(user()) for _ in range(5)))
        assert results == [True] * 5

    _run(main())


def test_timeout_expiring_touches_the_user_task_alone() -> None:
    async def user() -> str:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(5)
        except TimeoutError:
            return "timed out"
        return "no"

    async def main() -> None:
        assert await own.run(user()) == "timed out"
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
        await asyncio.sleep(0)  # (the caller is not cancelled)

    _run(main())


def test_errors_of_the_first_step_and_after_reach_the_caller() -> None:
    async def early() -> None:
        raise ValueError("early")

    async def late() -> None:
        await asyncio.sleep(0)
        raise ValueError("late")

    async def main() -> None:
        for fn in (early, late):
            with pytest.raises(ValueError, match=fn.__name__):
                await own.run(fn())

    gc.collect()
    _run(main())


def test_cancelling_the_caller_cancels_the_task() -> None:
    state: list[str] = []

    async def user() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            state.append("cancelled")
            raise

    async def caller() -> None:
        await own.run(user())

    async def main() -> None:
        # Cancelled while it waits, and before its first step (the user's first step ran already).
        waiting = asyncio.ensure_future(caller())
        await asyncio.sleep(0.01)
        waiting.cancel()
        early = asyncio.get_running_loop().create_task(caller())
        await asyncio.sleep(0)
        early.cancel()
        await asyncio.gather(waiting, early, return_exceptions=True)
        for _ in range(10):
            await asyncio.sleep(0)
        assert state == ["cancelled", "cancelled"]

    _run(main())


def test_cancelled_before_its_task_steps_cancels_what_the_first_step_awaits() -> None:
    """Cancelled before its task took its first step over (3.11 runs that step in `run`): what the step
    awaits is cancelled, as asyncio cancels the future a task waits on, so a child task it awaits ends
    too; and the user's coroutine goes on once that ended, with what it ended with."""
    children: list[asyncio.Task[str]] = []
    futures: list[asyncio.Future[str]] = []
    state: list[str] = []

    async def child() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            state.append("child cancelled")
            await asyncio.sleep(0.01)  # (some cleanup: its parent waits for it)
            raise
        return "not cancelled"

    async def awaits_child() -> str:
        try:
            return await children[-1]
        except asyncio.CancelledError:
            state.append(f"user cancelled, child done: {children[-1].done()}")
            raise

    async def awaits_future() -> str:
        futures.append(asyncio.get_running_loop().create_future())
        return await futures[-1]

    async def quiet() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "child's value"
        return "slept"

    async def swallows() -> str:
        return await children[-1]

    async def caller(user: Callable[[], Coroutine[Any, Any, str]]) -> str:
        return await own.run(user())

    async def main() -> None:
        before = asyncio.all_tasks()
        children.append(asyncio.ensure_future(child()))  # (started: it sees its cancellation)
        await asyncio.sleep(0)
        for user in (awaits_child, awaits_future):
            task = asyncio.get_running_loop().create_task(caller(user))
            await asyncio.sleep(0)  # its first step (and the user's) ran, not the user task's own
            task.cancel()
            assert (await asyncio.gather(task, return_exceptions=True))[0].__class__ is asyncio.CancelledError
        assert futures[0].cancelled()
        assert children[0].cancelled()
        assert state == ["child cancelled", "user cancelled, child done: True"]
        # A child that answers its cancellation with a value: the user's coroutine gets it.
        children.append(asyncio.ensure_future(quiet()))
        await asyncio.sleep(0)
        task = asyncio.get_running_loop().create_task(caller(swallows))
        await asyncio.sleep(0)
        task.cancel()
        assert await task == "child's value"
        for _ in range(5):
            await asyncio.sleep(0)
        assert asyncio.all_tasks() == before

    _run(main())


def test_a_cancelled_error_the_user_raises_is_raised_again() -> None:
    async def user() -> None:
        raise asyncio.CancelledError

    async def main() -> None:
        with pytest.raises(asyncio.CancelledError):
            await own.run(user())
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]

    _run(main())


def test_awaitables_that_are_no_coroutines() -> None:
    async def main() -> None:
        future = asyncio.get_running_loop().create_future()
        future.set_result(3)
        assert await own.run(future) == 3

    _run(main())


async def _awaits() -> None:
    await asyncio.sleep(0)


async def _no_await(x: int) -> int:
    return x + 1


async def _async_with() -> None:
    async with asyncio.timeout(1):
        pass


async def _async_for(items: AsyncIterator[int]) -> None:
    async for _ in items:
        pass


def _sync_returning_coroutine() -> Coroutine[Any, Any, int]:
    return _no_await(1)


class _Tools:
    async def method(self) -> int:
        return 1


def test_never_suspends() -> None:
    assert never_suspends(_no_await)
    assert never_suspends(_Tools().method)
    for fn in (_awaits, _async_with, _async_for, _sync_returning_coroutine, functools.partial(_no_await, 1)):
        assert not never_suspends(fn), fn


def test_never_suspends_reads_opcodes_not_their_arguments() -> None:
    """An argument byte equal to `YIELD_VALUE`'s opcode (86 on 3.11; the 151 locals and
    constants here give arguments 0 to 150) is no yield; an `await` after them still is one."""
    body = "".join(f"    x{i} = {i}\n" for i in range(151))
    namespace: dict[str, Any] = {}
    exec(f"async def no_wait():\n{body}    return x150\n", namespace)
    exec(f"async def waits(f):\n{body}    return await f\n", namespace)
    assert never_suspends(namespace["no_wait"])
    assert not never_suspends(namespace["waits"])


def test_a_generator_exit_the_user_raises_is_raised_again_not_thrown() -> None:
    """A task's outcome is thrown into the task awaiting it, and GeneratorExit thrown in closes what
    that awaits: the caller must see it raised, as any exception, through tasks nested (middleware)."""

    async def user(wait: bool) -> None:
        if wait:
            await asyncio.sleep(0)
        raise GeneratorExit

    async def middleware(wait: bool) -> None:
        await own.run(user(wait))

    async def main() -> None:
        for wait in (False, True):
            try:
                await own.run(middleware(wait))
            except GeneratorExit:
                pass
            else:
                raise AssertionError("not raised")

    _run(main())


@pytest.mark.parametrize("raised", [SystemExit, KeyboardInterrupt])
def test_the_process_ending_exceptions_a_user_raises_are_its_failure(raised: type[BaseException]) -> None:
    """`sys.exit()` (or a KeyboardInterrupt of its own) in a user coroutine fails its caller with
    `own.Exited`, an ordinary exception, in its first step or later: asyncio would raise it out of the
    event loop from the task, ending every other request with it."""

    async def user(wait: bool) -> None:
        if wait:
            await asyncio.sleep(0)
        raise raised(2)

    async def middleware(wait: bool) -> None:
        await own.run(user(wait))

    async def main() -> None:
        for wait in (False, True):
            with pytest.raises(own.Exited) as failed:
                await own.run(middleware(wait))
            assert type(failed.value.raised) is raised
        await asyncio.sleep(0.01)  # the loop goes on

    _run(main())


async def _rest(rest: Any, trail: list[Any]) -> str:
    """`then`'s coroutine: records the task it runs in and what `rest` gave, waits, answers."""
    trail.append(asyncio.current_task())
    try:
        trail.append(await rest)
    except BaseException as exc:  # (the user's exception, given here)
        trail.append(type(exc))
    await asyncio.sleep(0)  # (it may wait too: still the same task)
    trail.append(asyncio.current_task())
    return "answered"


def test_then_carries_the_request_on_in_the_user_task() -> None:
    """`step` + `then`: the rest of a request runs in the user's own task, once the user's coroutine
    ends, with its value; the task's outcome is the rest's, and there is no second task."""
    seen: list[Any] = []
    trail: list[Any] = []

    async def user() -> str:
        seen.append(asyncio.current_task())
        await asyncio.sleep(0)
        seen.append(asyncio.current_task())
        return "value"

    async def main() -> None:
        caller = asyncio.current_task()
        before = len(asyncio.all_tasks())
        value, task = own.step(user(), contextvars.copy_context())
        assert value is None and task is not None and seen == [task] and task is not caller
        assert asyncio.current_task() is caller
        own.then(task, functools.partial(_rest, trail=trail))
        assert len(asyncio.all_tasks()) == before + 1  # (the user's task alone)
        assert await task == "answered"
        assert seen == [task, task] and trail == [task, "value", task]

    _run(main())


def test_step_finished_in_its_first_step_gives_its_value_or_raises() -> None:
    async def done() -> str:
        return "at once"

    async def fails() -> str:
        raise ValueError("first step")

    async def main() -> None:
        assert own.step(done(), contextvars.copy_context()) == ("at once", None)
        with pytest.raises(ValueError, match="first step"):
            own.step(fails(), contextvars.copy_context())

    _run(main())


def test_then_is_given_the_user_failure_and_cancellation() -> None:
    """The user's exception, or its cancellation, reaches `rest`; a cancelled user task runs the rest
    only once the user's coroutine has ended (its cleanup included), in that same task."""
    trails: list[list[Any]] = [[], []]
    cleaned: list[str] = []

    async def fails() -> str:
        await asyncio.sleep(0)
        raise ValueError("after a wait")

    async def held() -> str:
        try:
            await asyncio.sleep(5)
        finally:
            await asyncio.sleep(0.01)  # (slow cleanup: the rest waits for it)
            cleaned.append("cleaned")
        return "not cancelled"

    async def main() -> None:
        tasks = []
        for user, trail in zip((fails, held), trails, strict=True):
            _, task = own.step(user(), contextvars.copy_context())
            assert task is not None
            own.then(task, functools.partial(_rest, trail=trail))
            tasks.append(task)
        await asyncio.sleep(0.01)
        tasks[1].cancel()
        assert await asyncio.gather(*tasks) == ["answered", "answered"]
        assert trails[0] == [tasks[0], ValueError, tasks[0]]
        assert trails[1] == [tasks[1], asyncio.CancelledError, tasks[1]] and cleaned == ["cleaned"]

    _run(main())


def test_a_cancel_of_the_users_own_making_is_over_for_the_rest_a_cancel_of_the_request_is_not() -> None:
    """With `then`, the user's task carries the rest of its request: a cancellation the user's code
    made itself (`current_task().cancel()`) leaves the rest uncancelled (it answers the failure),
    one made by `own.cancel` (the request's: its peer's, the client gone) stays for the rest to see."""
    seen: list[tuple[str, int]] = []

    async def rest(outcome: Any) -> str:
        try:
            await outcome
        except asyncio.CancelledError:
            seen.append(("cancelled", asyncio.current_task().cancelling()))  # type: ignore[union-attr]
        return "rest ran"

    async def cancels_itself() -> str:
        await asyncio.sleep(0)
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        await asyncio.sleep(0)
        return "not reached"

    async def held() -> str:
        await asyncio.sleep(5)
        return "not reached"

    async def main() -> None:
        _, mine = own.step(cancels_itself(), contextvars.copy_context())
        assert mine is not None
        own.then(mine, rest)
        assert await mine == "rest ran"
        _, request = own.step(held(), contextvars.copy_context())
        assert request is not None
        own.then(request, rest)
        await asyncio.sleep(0.01)
        own.cancel(request)
        assert await request == "rest ran"
        assert seen[0] == ("cancelled", 0) and seen[1][0] == "cancelled" and seen[1][1] >= 1

    _run(main())
