"""A user's coroutine run from its first step to its end in one task of its own.

mcpbind runs its own handlers' first step inline, in whatever task reads the request (`eager`), and
carries one that waits on in another task. User code must not see that: anyio's cancel scopes (httpx
enters one in its first step) must be left in the task that entered them, an `asyncio.timeout` that
expires cancels the task it was entered in (which must be that request's, not the read loop's), and
`asyncio.current_task()` must be the same before and after an await. So every user coroutine (a tool,
resource, prompt, completion, custom method, middleware; a client's sampling, elicitation and roots
callbacks) is awaited through `run`: a task of its own, in a copy of the caller's context, which the
caller awaits. Cancelling the caller's task cancels it (asyncio cancels the task a task waits on); a
timeout firing in it, or its cancelling itself, touches that request only. A sync function gives no
coroutine and needs none of this: it stays inline.

On Python 3.12+ the task starts eagerly (`eager_start=True`, public API): its first step runs at once,
in the task, and one that finishes there is done with no loop turn. Python 3.11 has no public eager
start: the task is created as usual and runs its first step on the next loop turn.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Coroutine
from typing import Any, Final, TypeVar

__all__ = ["EAGER", "run", "task"]

T = TypeVar("T")

EAGER: Final = sys.version_info >= (3, 12)
"""Whether a task's first step can run at once, in it (`asyncio.Task(..., eager_start=True)`)."""


def task(aw: Awaitable[T]) -> asyncio.Task[T]:
    """`aw` as a task of its own, started at once where Python can (`EAGER`): possibly done already."""
    coro: Coroutine[Any, Any, T] = aw if asyncio.iscoroutine(aw) else _awaited(aw)
    loop = asyncio.get_running_loop()
    if EAGER:
        return asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]  # (3.12+: typeshed of 3.11 lacks it)
    return loop.create_task(coro)


def run(aw: Awaitable[T]) -> Awaitable[T]:
    """What to await for `aw`'s value, run as a task of its own (`task`): a task done in its first step
    is awaited with no wait at all."""
    started = task(aw)
    return started if started.done() else _awaiting(started)


async def _awaiting(started: asyncio.Task[T]) -> T:
    try:
        return await started
    except asyncio.CancelledError:
        # The awaiting task was cancelled: asyncio cancels the task it waits on, save where the
        # cancellation came before it waited (a carried handler cancelled before its first step).
        started.cancel()
        raise


async def _awaited(aw: Awaitable[T]) -> T:
    """An awaitable that is no coroutine (a Future a function returns), as one for a task to run."""
    return await aw
