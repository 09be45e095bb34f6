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
start, and a task created as usual runs its first step a loop turn later: over the caller's own
carrying on as a task, that was 60k to 137k instructions more per call of an async tool (callgrind:
stdio in process 30.8k -> 91.0k, ASGI 2025-json 79.7k -> 216.9k). So on 3.11 `_started` does what
3.12's eager start does, with asyncio's own `_enter_task`/`_leave_task` (private, 3.7 on, as
`Peer._serve_inline` uses them; without them, a plain task): the task is created, its first step run
at once with the task the current one, and its scheduled step given what that step waited on (or
nothing to do, when it finished).
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import CoroutineType as _Coroutine
from typing import Any, Final, TypeVar

__all__ = ["EAGER", "Exited", "enter_task", "leave_task", "run"]

T = TypeVar("T")

EAGER: Final = sys.version_info >= (3, 12)
"""Whether a task's first step can run at once, in it (`asyncio.Task(..., eager_start=True)`)."""


_Switch = Callable[[asyncio.AbstractEventLoop, "asyncio.Task[Any]"], None]
# What a task's step does around it so that `asyncio.current_task()` names it: asyncio's own (3.7 on;
# private), used here and by the stdio peer's inline serving (`Peer._serve_inline`); None without them.
enter_task: Final[_Switch | None] = getattr(asyncio.tasks, "_enter_task", None)
leave_task: Final[_Switch | None] = getattr(asyncio.tasks, "_leave_task", None)


def run(aw: Awaitable[T]) -> Awaitable[T]:
    """What to await for `aw`'s value, run as a task of its own, started at once: a task done in its
    first step is awaited with no wait at all."""
    coro: Coroutine[Any, Any, T] = aw if type(aw) is _Coroutine or asyncio.iscoroutine(aw) else _awaited(aw)
    loop = asyncio.get_running_loop()
    if EAGER:
        started: asyncio.Task[T] = asyncio.Task(_Stepped(coro), loop=loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]  # (3.12+; 3.11's stubs lack it)
        if not started.done():
            return _awaiting(started)
        raised = None if started.cancelled() else started.exception()
        return _settled(loop, None, raised.raised) if type(raised) is _Raised else started
    if enter_task is None or leave_task is None:
        return _awaiting(loop.create_task(_Stepped(coro)))
    return _started(coro, loop, enter_task, leave_task)


def _started(
    coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop, enter: _Switch, leave: _Switch
) -> Awaitable[T]:
    """3.11's eager start (see the module's doc): `run`'s awaitable of `coro`, its first step run at
    once in its own task, in that task's context."""
    context = contextvars.copy_context()
    stepped: _Stepped[T] = _Stepped(coro)
    # `asyncio.Task` itself, as 3.12's eager start takes it: `loop.create_task`'s frames (and a task
    # factory's, which would not run the first step here) cost this every call.
    started = asyncio.Task(stepped, loop=loop, context=context)
    caller = asyncio.current_task(loop)
    if caller is not None:
        leave(loop, caller)
    enter(loop, started)
    try:
        stepped.first = context.run(coro.send, None)
    except StopIteration as done:
        stepped.first = _FINISHED
        return _settled(loop, done.value, None)
    except (KeyboardInterrupt, SystemExit) as exc:
        stepped.first = _FINISHED
        return _settled(loop, None, Exited(exc))
    except BaseException as exc:  # (the coroutine's own failure, its request's to answer)
        stepped.first = _FINISHED
        return _settled(loop, None, exc)
    finally:
        leave(loop, started)
        if caller is not None:
            enter(loop, caller)
    return _awaiting(started)


def _settled(loop: asyncio.AbstractEventLoop, value: Any, exc: BaseException | None) -> asyncio.Future[Any]:
    """A future done with what a first step ended with: awaited, it gives that with no wait."""
    future = loop.create_future()
    if exc is None:
        future.set_result(value)
    elif isinstance(exc, asyncio.CancelledError):
        future.cancel()  # (a CancelledError the coroutine raised itself: raised again by the await)
    else:
        future.set_exception(exc)
    return future


_NOTHING: Any = object()
_FINISHED: Any = object()


class Exited(Exception):
    """A KeyboardInterrupt or SystemExit a user coroutine raised itself (`sys.exit()` in a tool, an
    argument parser giving up, a library's own `raise KeyboardInterrupt`): its request's failure,
    raised to the caller in its place. Left as it is, asyncio raises either out of the event loop
    from the task that raised it, and one request would end the whole process. (Ctrl-C does not come
    this way: asyncio's runner and uvicorn take SIGINT themselves, and end serving with it.)"""

    def __init__(self, raised: KeyboardInterrupt | SystemExit) -> None:
        super().__init__(f"the handler raised {raised!r}")
        self.raised = raised


class _Raised(Exception):
    """A GeneratorExit a user coroutine raised itself, as its task's outcome: a task waiting on one
    has its outcome thrown into its coroutine, and GeneratorExit thrown into a coroutine closes what
    it awaits instead of reaching the `except` that answers the request (`_awaiting` raises it
    again, as raised)."""

    def __init__(self, raised: GeneratorExit) -> None:
        super().__init__()
        self.raised = raised


class _Stepped(Coroutine[Any, Any, T]):
    """What a user coroutine's task runs: the coroutine, a GeneratorExit it raises made a `_Raised`,
    a KeyboardInterrupt or SystemExit an `Exited`.
    On 3.11, where `_started` ran its first step, that step's wait (`first`) is given to the task's own
    first step; a first step that finished leaves the task nothing to do (its outcome went to the
    caller, not to the task, which nobody awaits)."""

    __slots__ = ("_coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self._coro, self.first = coro, _NOTHING

    def send(self, value: Any) -> Any:
        first = self.first
        if first is not _NOTHING:
            if first is _FINISHED:  # (its first step finished it)
                raise StopIteration
            self.first = _NOTHING
            return first
        try:
            return self._coro.send(value)
        except GeneratorExit as exc:
            raise _Raised(exc) from None
        except (KeyboardInterrupt, SystemExit) as exc:
            raise Exited(exc) from exc

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        first = self.first
        if first is _FINISHED:
            raise StopIteration
        self.first = _NOTHING
        if first is not _NOTHING and isinstance(typ, asyncio.CancelledError) and _cancelled(first):
            # Cancelled before the task took over the first step's wait: what that step awaits is
            # cancelled, as asyncio cancels the future a task waits on (a child task awaited ends
            # too), and the task waits on it, its outcome given to the coroutine as the task's wait's.
            return first
        try:
            if val is None and tb is None:
                return self._coro.throw(typ)
            return self._coro.throw(typ, val, tb)  # (asyncio's tasks throw one exception object)
        except GeneratorExit as exc:
            raise _Raised(exc) from None
        except (KeyboardInterrupt, SystemExit) as exc:
            raise Exited(exc) from exc

    def close(self) -> None:
        self._coro.close()

    # What `inspect.getcoroutinestate` reads of a task's coroutine (anyio asks whether a task started).
    @property
    def cr_frame(self) -> Any:
        return getattr(self._coro, "cr_frame", None)

    @property
    def cr_running(self) -> bool:
        return bool(getattr(self._coro, "cr_running", False))

    @property
    def cr_suspended(self) -> bool:
        return bool(getattr(self._coro, "cr_suspended", False))

    def __await__(self) -> Generator[Any, Any, T]:
        raise TypeError("a started coroutine is carried on by its task, not awaited")


def _cancelled(waited: Any) -> bool:
    """Cancel what a first step yielded to its task (a future, or None for a bare yield): whether
    it was cancelled (not done already)."""
    cancel = getattr(waited, "cancel", None)
    return cancel is not None and bool(cancel())


async def _awaiting(started: asyncio.Task[T]) -> T:
    try:
        return await started
    except _Raised as raised:
        raise raised.raised from None
    except asyncio.CancelledError:
        # The awaiting task was cancelled: asyncio cancels the task it waits on, save where the
        # cancellation came before it waited (a carried handler cancelled before its first step).
        started.cancel()
        raise


async def _awaited(aw: Awaitable[T]) -> T:
    """An awaitable that is no coroutine (a Future a function returns), as one for a task to run."""
    return await aw
