"""Start a coroutine at once, and make it a task only if it has to wait.

Most MCP handlers never wait on anything (an echo tool, a resource read from memory): running their
first step inline answers them with no task, no event-loop turn and no scheduling. A handler that does
wait is carried on by a task from exactly where it stopped, so callers see ordinary task semantics from
then on (cancellation included). This is what Python 3.12's eager task factory does, for 3.11 too.

The first step runs in its own copy of the context, which the task keeps: context variables a handler
sets never leak into the caller, as with a task.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Final, Generic, TypeVar, cast

from . import own

__all__ = ["Paused", "begin", "boxed", "carried", "carry", "resume", "run", "start", "through"]

T = TypeVar("T")
R = TypeVar("R")


class Paused:
    """A coroutine run in `context` up to its first wait (`waiting_on`), with what makes the caller's
    result of its own: `finish(rest)` awaits the rest of it (for `carry`). Or, `owned`: a user
    coroutine still running in its own task (`aio.own.step`, in `context`), which carries `finish`
    on itself once that coroutine ends (`rest` gives its value), with no task besides (no `coro`).
    A plain class, not a NamedTuple: creating one of those costs ~0.4% of a stdio server's cold
    start."""

    __slots__ = ("context", "coro", "finish", "owned", "waiting_on")

    coro: Coroutine[Any, Any, Any] | None
    waiting_on: Any
    context: contextvars.Context
    finish: Callable[[Awaitable[Any]], Coroutine[Any, Any, Any]]
    owned: asyncio.Task[Any] | None

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any] | None,
        waiting_on: Any,
        context: contextvars.Context,
        finish: Callable[[Awaitable[Any]], Coroutine[Any, Any, Any]],
        owned: asyncio.Task[Any] | None = None,
    ) -> None:
        self.coro, self.waiting_on, self.context, self.finish = coro, waiting_on, context, finish
        self.owned = owned


def carry(paused: Paused, carry: Callable[[Awaitable[Any]], Coroutine[Any, Any, R]]) -> asyncio.Task[R]:
    """The task carrying `paused` on inside `carry` (`carry(rest)`, where `rest` gives the paused
    coroutine's value): the user's own task where it is one (`Paused.owned`, `aio.own.then`), else
    a task of its own (`carried`)."""
    owned = paused.owned
    if owned is not None:
        own.then(owned, carry)
        return owned
    assert paused.coro is not None  # (a Paused owns a task or has a coroutine)
    return carried(paused.coro, paused.waiting_on, carry, paused.context)


def start(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coro` up to its first wait; None if it finished there, else the task that carries it on.

    An exception raised before the first wait propagates to the caller.
    """
    # `begin`'s first step, repeated here: this is every request, and most finish in it.
    context = contextvars.copy_context()
    try:
        waiting_on = context.run(coro.send, None)
    except StopIteration:
        return None
    return carried(coro, waiting_on, _carry_on, context)


def run(coro: Coroutine[Any, Any, T]) -> tuple[T | None, asyncio.Task[T] | None]:
    """Run `coro` up to its first wait: (its result, None) if it finished there, else (None, the task
    that carries it on to its result)."""
    return begin(coro, _through)


def begin(
    coro: Coroutine[Any, Any, T], carry: Callable[[Awaitable[T]], Coroutine[Any, Any, R]]
) -> tuple[T | None, asyncio.Task[R] | None]:
    """Run `coro` up to its first wait. Finished there: (its result, None). Otherwise (None, a task
    running `carry(rest)`), where awaiting `rest` carries `coro` on from that wait and gives its result:
    the caller wraps the rest of the work as it likes (answering a request, say) in one task.

    An exception raised before the first wait propagates to the caller.
    """
    context = contextvars.copy_context()
    try:
        waiting_on = context.run(coro.send, None)
    except StopIteration as done:
        return done.value, None
    return None, carried(coro, waiting_on, carry, context)


def carried(
    coro: Coroutine[Any, Any, T],
    waiting_on: Any,
    carry: Callable[[Awaitable[T]], Coroutine[Any, Any, R]],
    context: contextvars.Context,
) -> asyncio.Task[R]:
    """The task carrying `coro` on from `waiting_on`, its first wait, inside `carry`."""
    # `carry` is started here too, up to the same wait (it awaits `rest` first): a task cancelled
    # before its first step throws the cancellation into its coroutine, and one not yet started would
    # die of it without running a line, leaving `coro` suspended forever and `carry`'s cleanup undone.
    outer = carry(_Resume(coro, waiting_on))
    first = context.run(outer.send, None)
    return asyncio.get_running_loop().create_task(_Started(outer, first), context=context)


def resume(coro: Coroutine[Any, Any, T], waiting_on: Any) -> Awaitable[T]:
    """`coro`, run by the caller up to its first wait (`waiting_on`), to be awaited on from there in
    the caller's own task (a coroutine that had to wait after all, in a caller that runs it inline)."""
    return _Resume(coro, waiting_on)


async def _carry_on(rest: Awaitable[None]) -> None:
    await rest


async def _through(rest: Awaitable[T]) -> T:
    return await rest


_NOTHING: Any = object()


class _Started(Coroutine[Any, Any, T]):
    """A coroutine already run to its first wait, for a task to carry on: the task's first step gets
    that wait back (the coroutine must not be resumed before that wait is over); anything else, a
    cancellation thrown before the first step included, goes to the coroutine."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, T], first: Any) -> None:
        self._coro, self._first = coro, first

    def send(self, value: Any) -> Any:
        first = self._first
        if first is not _NOTHING:
            self._first = _NOTHING
            return first
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._first = _NOTHING
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)  # (asyncio's tasks throw one exception object)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, Any, T]:
        raise TypeError("a started coroutine is carried on by its task, not awaited")


class _Resume(Generic[T]):
    """Awaitable that first hands the task what `coro` was already waiting on, then delegates to it."""

    __slots__ = ("coro", "waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, T], waiting_on: Any) -> None:
        self.coro, self.waiting_on = coro, waiting_on

    def __await__(self) -> Generator[Any, Any, T]:
        coro, waiting_on = self.coro, self.waiting_on
        while True:
            try:
                value = yield waiting_on
            except BaseException as exc:  # cancellation and anything else thrown in by the task
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
            else:
                try:
                    waiting_on = coro.send(value)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]


def _run_through(coro: Any, box: list[Any]) -> Generator[Any, Any, None]:
    box.append((yield from coro))


through: Final = cast(Callable[[Any, list[Any]], Generator[Any, Any, None]], types.coroutine(_run_through))
"""A coroutine run through, its value put in `box` (as `plain.answer_decided` runs a tool's, and the
HTTP app the first `receive()` of a POST): driven by `next(through(coro, box), box)`, a coroutine that
returns without waiting ends it with no exception at all, where `coro.send` ends with a StopIteration
made, raised, caught and freed (0.6k to 1.4k instructions a call, counted by callgrind: `yield from`
takes the coroutine's value with none, and a generator that returns None ends `next` with its default
and none either). One that waits is carried on through it (`resume`, then the value is `box[0]`)."""


async def boxed(rest: Awaitable[None], box: list[T]) -> T:
    """The value of a coroutine `through` put in `box`, once `rest` (the rest of it) is awaited."""
    await rest
    return box[0]
