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

Where nothing of mcpbind's is left to do around the user's coroutine but answer its request (a plain
tool's call, `server.plain`), no second task awaits it: `step` starts it as `run` does and `then`
gives its task the rest of the request (the answer made, written, counted), run in that same task
once the user's coroutine ends. The peer tracks and cancels that task as the request's.

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

__all__ = ["EAGER", "Exited", "cancel", "enter_task", "handler_fault", "leave_task", "run", "step", "then"]

T = TypeVar("T")

EAGER: Final = sys.version_info >= (3, 12)
"""Whether a task's first step can run at once, in it (`asyncio.Task(..., eager_start=True)`)."""


_Switch = Callable[[asyncio.AbstractEventLoop, "asyncio.Task[Any]"], None]
# What a task's step does around it so that `asyncio.current_task()` names it: asyncio's own (3.7 on;
# private), used here and by the stdio peer's inline serving (`Peer._serve_inline`); None without them.
enter_task: Final[_Switch | None] = getattr(asyncio.tasks, "_enter_task", None)
leave_task: Final[_Switch | None] = getattr(asyncio.tasks, "_leave_task", None)
_current: Final[dict[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None] = getattr(
    asyncio.tasks, "_current_tasks", None
)


def handler_fault(exc: BaseException) -> bool:
    """`exc`, out of a handler, is that request's error to answer rather than the server's end: all but
    a real cancellation (of the request, or of the server). A CancelledError a handler raises itself
    while nothing cancels it, or another BaseException (GeneratorExit, a library's own; SystemExit
    from `sys.exit()` in a sync tool, a KeyboardInterrupt of its own, as a coroutine's are: `Exited`),
    would otherwise leave the request unanswered or end the whole process. The process's end does not
    come this way: asyncio's runner and uvicorn take SIGINT and SIGTERM and end serving with them."""
    if isinstance(exc, asyncio.CancelledError):
        task = asyncio.current_task()
        return task is not None and not task.cancelling()
    return True


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
    try:
        value, task = _started(coro, contextvars.copy_context())
    except BaseException as exc:  # (the coroutine's own failure, its request's to answer)
        return _settled(loop, None, exc)
    return _settled(loop, value, None) if task is None else _awaiting(task)


def _step(aw: Awaitable[T], context: contextvars.Context) -> tuple[T | None, asyncio.Task[Any] | None]:
    """`step` where it is not `_started` (3.12+: the eager start; a Python without asyncio's task
    switches: a task started as usual, its first step a loop turn later)."""
    coro: Coroutine[Any, Any, T] = aw if type(aw) is _Coroutine or asyncio.iscoroutine(aw) else _awaited(aw)
    loop = asyncio.get_running_loop()
    if EAGER:
        started: asyncio.Task[T] = asyncio.Task(_Stepped(coro), loop=loop, context=context, eager_start=True)  # type: ignore[call-arg,unused-ignore]  # (3.12+; 3.11's stubs lack it)
        if not started.done():
            return None, started
        try:
            return started.result(), None
        except _Raised as raised:
            raise raised.raised from None
    return None, asyncio.Task(_Stepped(coro), loop=loop, context=context)


def then(task: asyncio.Task[Any], carry: Callable[[Awaitable[Any]], Coroutine[Any, Any, Any]]) -> None:
    """Have `task` (`step`'s, still running) carry its request on itself once the user's coroutine
    ends: `carry(rest)` is run in the same task, where awaiting `rest` gives that coroutine's value
    (or raises its exception) with no wait, and the task's outcome is `carry`'s. One task per request
    where a second would await the first (3.11, callgrind, bench/stdio_inproc.py --echo waits:
    107.7k -> 82.1k instructions a call; at 1 in flight 146.6k -> 118.4k)."""
    stepped = task.get_coro()
    assert type(stepped) is _Stepped  # (`step`'s task)
    stepped.then = carry


def cancel(task: asyncio.Task[Any]) -> None:
    """Cancel the request `task` carries (its peer's cancellation, the client gone, shutdown): for a
    task that carries its request on itself (`then`), a cancellation the user's coroutine ends with
    is then the request's, not one of its own making, and its request is not answered."""
    stepped = task.get_coro()
    if type(stepped) is _Stepped:
        stepped.outside = True
    task.cancel()


def _started(aw: Awaitable[T], context: contextvars.Context) -> tuple[T | None, asyncio.Task[Any] | None]:
    """3.11's eager start (see the module's doc) of `aw` in its own task, in `context`: (its value,
    None) when its first step finished it (its exception raised), else (None, the task)."""
    coro: Coroutine[Any, Any, T] = aw if type(aw) is _Coroutine or asyncio.iscoroutine(aw) else _awaited(aw)
    loop = asyncio.get_running_loop()
    enter, leave = enter_task, leave_task
    assert enter is not None and leave is not None  # (`step` and `run` use this only then)
    stepped: _Stepped[T] = _Stepped(coro)
    # `asyncio.Task` itself, as 3.12's eager start takes it: `loop.create_task`'s frames (and a task
    # factory's, which would not run the first step here) cost this every call.
    started = asyncio.Task(stepped, loop=loop, context=context)
    # (`asyncio.current_task`, a Python function on 3.11, without its frame)
    caller = asyncio.current_task(loop) if _current is None else _current.get(loop)
    if caller is not None:
        leave(loop, caller)
    enter(loop, started)
    try:
        stepped.first = context.run(coro.send, None)
    except StopIteration as done:
        stepped.first = _FINISHED
        return done.value, None
    except (KeyboardInterrupt, SystemExit) as exc:
        stepped.first = _FINISHED
        raise Exited(exc) from exc
    except BaseException:
        stepped.first = _FINISHED
        raise
    finally:
        leave(loop, started)
        if caller is not None:
            enter(loop, caller)
    return None, started


step: Final = _step if EAGER or enter_task is None or leave_task is None else _started
"""`step(aw, context)`: `aw` run as `run` runs it, in `context` (a copy of the caller's, which the task
keeps), for a caller that carries the rest of its request in that same task (`then`) rather than
awaiting it from another: (its value, None) when its first step finished it (its exception raised, as
awaiting `run`'s would), else (None, its task, still running). (On 3.11, `_started` itself: no frame
between.)"""


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


_MADE_FAILURES: Final = (GeneratorExit, KeyboardInterrupt, SystemExit)
"""What a user coroutine may raise that its task does not raise as it is (`_Stepped._ended`)."""


class _Stepped(Coroutine[Any, Any, T]):
    """What a user coroutine's task runs: the coroutine, a GeneratorExit it raises made a `_Raised`,
    a KeyboardInterrupt or SystemExit an `Exited`. On 3.11, where `_started` ran its first step, that
    step's wait (`first`) is given to the task's own first step; a first step that finished leaves the
    task nothing to do (its outcome went to the caller, not to the task, which nobody awaits). Given
    `then` (`then()`), the coroutine's end, value or exception, goes to `then(rest)`, a coroutine run on
    in the same task, whose outcome is the task's."""

    __slots__ = ("_coro", "first", "outside", "then")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self._coro, self.first = coro, _NOTHING
        self.then: Callable[[Awaitable[Any]], Coroutine[Any, Any, Any]] | None = None
        self.outside = False  # (cancelled by its request's carrier: `cancel`)

    def send(self, value: Any) -> Any:
        first = self.first
        if first is not _NOTHING:
            if first is _FINISHED:  # (its first step finished it)
                raise StopIteration
            self.first = _NOTHING
            return first
        try:
            return self._coro.send(value)
        except BaseException as exc:  # (its end: a StopIteration, the usual one, is raised on as is)
            if self.then is None and not isinstance(exc, _MADE_FAILURES):
                raise
            ended, raised = self._ended(exc)  # (its value: no StopIteration kept, in a cycle with its frame)
        return self._carried(ended, raised)  # (out of the handler: `then` is no exception's handling)

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
        except BaseException as exc:
            if self.then is None and not isinstance(exc, _MADE_FAILURES):
                raise
            ended, raised = self._ended(exc)
        return self._carried(ended, raised)

    def _ended(self, exc: BaseException) -> tuple[Any, BaseException | None]:
        """The coroutine ended with `exc` (a StopIteration: its value): what `then` is to carry on
        from (its value, or what it raised), else `exc` raised as the task's outcome (a GeneratorExit
        as a `_Raised`)."""
        if type(exc) is StopIteration:
            return exc.value, None
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            if self.then is None:
                raise Exited(exc) from exc
            return None, Exited(exc)
        if self.then is None:
            if isinstance(exc, GeneratorExit):
                raise _Raised(exc) from None
            raise exc
        return None, exc

    def _carried(self, value: Any, exc: BaseException | None) -> Any:
        """The coroutine ended: `then`'s coroutine takes the task over, from its first step on."""
        then = self.then
        assert then is not None
        self.then = None
        if isinstance(exc, asyncio.CancelledError) and not self.outside:
            # A cancellation of the user's own making (its `current_task().cancel()`): over once its
            # coroutine ended. The rest answers it as the tool's failure, as the task that awaited
            # the user's did when they were two; a cancel of the request itself (`cancel`) stays.
            task = asyncio.current_task()
            if task is not None:
                for _ in range(task.cancelling()):
                    task.uncancel()
        self._coro = rest = then(_settled(asyncio.get_running_loop(), value, exc))
        return rest.send(None)

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
