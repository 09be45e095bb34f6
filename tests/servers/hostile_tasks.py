"""Tools that abuse the task each user coroutine runs in (`mcpbind.aio.own`), for
tests/e2e/test_hostile_tasks.py.

`python tests/servers/hostile_tasks.py (--stdio | --http PORT)`

Tools raise BaseException subclasses (KeyboardInterrupt, SystemExit, GeneratorExit, one of their
own), in their first step or after a wait; cancel their own task; block the loop without yielding;
return an awaitable that is no coroutine; read a context variable a middleware set; start background
tasks and return. `stats` says how many tasks the server's loop holds, and how many `wait` calls run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import time
from collections.abc import Generator
from typing import Any

from mcpbind.server import Server
from mcpbind.server.middleware import Call, Next

SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("SEEN", default="unset")
WAITING: list[int] = [0]
BACKGROUND: list[str] = []
KEPT: set[asyncio.Task[Any]] = set()


class Custom(BaseException):
    """A BaseException of the tool's own, neither Exception nor one of asyncio's."""


_RAISED: dict[str, type[BaseException]] = {
    "keyboard": KeyboardInterrupt,
    "exit": SystemExit,
    "generator": GeneratorExit,
    "custom": Custom,
}


class Later:
    """An awaitable that is no coroutine: its `__await__` is a generator that yields once."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, str]:
        yield None  # (a bare yield: the task's step again on the next turn)
        return self.value


class BadYield:
    """An awaitable whose `__await__` yields what no task can wait on (asyncio: "bad yield")."""

    def __await__(self) -> Generator[Any, None, str]:
        yield 42
        return "not reached"


def build(middleware: bool = False) -> Server:
    server = Server("hostile-tasks", "1.0.0")

    @server.tool()
    async def raise_base(kind: str, wait: bool) -> str:
        """Raise `kind` (keyboard, exit, generator, custom), after a wait or in the first step."""
        if wait:
            await asyncio.sleep(0.01)
        raise _RAISED[kind]("raised by the tool")

    @server.tool()
    def raise_sync(kind: str) -> str:
        """Raise `kind` from a sync function (run inline, in no task of its own)."""
        raise _RAISED[kind]("raised by the tool")

    @server.tool()
    async def raise_at_once(kind: str) -> str:
        """Raise `kind` from an `async def` with no await (whose whole run is one step: inline)."""
        raise _RAISED[kind]("raised by the tool")

    @server.tool()
    async def cancel_self(wait: bool) -> str:
        """Cancel the task it runs in, then wait: the CancelledError is its own."""
        if wait:
            await asyncio.sleep(0.01)
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)
        return "not cancelled"

    @server.tool()
    async def raise_when_cancelled(kind: str) -> str:
        """Wait; when cancelled, raise `kind` instead of the cancellation."""
        WAITING[0] += 1
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise _RAISED[kind]("raised on cancellation") from None
        finally:
            WAITING[0] -= 1
        return "not cancelled"

    @server.tool()
    def set_sync(value: str) -> str:
        """Set the context variable from a sync tool (run inline), and leave it set."""
        SEEN.set(value)
        return SEEN.get()

    @server.tool()
    async def set_async(value: str, wait: bool) -> str:
        """Set the context variable from a coroutine, and leave it set."""
        SEEN.set(value)
        if wait:
            await asyncio.sleep(0.01)
        return SEEN.get()

    @server.tool()
    async def set_at_once(value: str) -> str:
        """Set the context variable from an `async def` with no await (run inline), and leave it set."""
        SEEN.set(value)
        return SEEN.get()

    @server.tool()
    def get_sync() -> str:
        return SEEN.get()

    @server.tool()
    async def get_async(wait: bool) -> str:
        if wait:
            await asyncio.sleep(0.01)
        return SEEN.get()

    @server.tool()
    async def returns_coroutine() -> Any:
        """Returns a coroutine it never awaited, as its value."""
        return asyncio.sleep(0, "slept")

    @server.tool()
    def returns_spent() -> Any:
        """A sync function returning a coroutine already closed."""
        coro = asyncio.sleep(0, "x")
        coro.close()
        return coro

    @server.tool()
    def returns_bad_awaitable() -> Any:
        """A sync function returning an object whose `__await__` gives no iterator."""

        class Broken:
            def __await__(self) -> Any:
                return 42

        return Broken()

    @server.tool()
    async def block(seconds: float) -> str:
        """Block the loop for `seconds`, never yielding (time.sleep in an async def)."""
        time.sleep(seconds)
        return "blocked"

    @server.tool()
    def later(value: str) -> Any:
        """A sync function returning an awaitable that is no coroutine."""
        return Later(value)

    @server.tool()
    async def later_async(value: str) -> str:
        """Awaits an awaitable that is no coroutine."""
        return await Later(value)

    @server.tool()
    async def bad_yield(wait: bool) -> str:
        """Awaits what yields a value no task can wait on, after a wait or in the first step."""
        if wait:
            await asyncio.sleep(0.01)
        return await BadYield()

    @server.tool()
    def bad_yield_sync() -> Any:
        """A sync function returning an awaitable that yields a value no task can wait on."""
        return BadYield()

    @server.tool()
    def future_tool(value: str) -> Any:
        """A sync function returning a Future done a loop turn later."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, value)
        return future

    @server.tool()
    async def seen(wait: bool) -> str:
        """The context variable a middleware set (`--middleware`), read before and after a wait."""
        before = SEEN.get()
        if wait:
            await asyncio.sleep(0.01)
        return f"{before} {SEEN.get()}"

    @server.tool()
    async def spawn(count: int, seconds: float) -> str:
        """Start `count` background tasks that each wait `seconds`, then return at once."""

        async def background(i: int) -> None:
            await asyncio.sleep(seconds)
            BACKGROUND.append(f"done {i}")

        for i in range(count):
            task = asyncio.get_running_loop().create_task(background(i))
            KEPT.add(task)
            task.add_done_callback(KEPT.discard)
        return f"spawned {count}"

    @server.tool()
    async def wait(seconds: float) -> str:
        WAITING[0] += 1
        try:
            await asyncio.sleep(seconds)
        finally:
            WAITING[0] -= 1
        return "waited"

    @server.tool()
    def stats() -> dict[str, int]:
        """What the loop holds: its tasks, the `wait` calls running, background tasks done so far."""
        return {"tasks": len(asyncio.all_tasks()), "waiting": WAITING[0], "background": len(BACKGROUND)}

    if middleware:

        async def mark(call: Call, call_next: Next) -> Any:
            token = SEEN.set("set")
            try:
                return await call_next(call)
            finally:
                SEEN.reset(token)

        server.add_middleware(mark)
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--middleware", action="store_true")
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--http", type=int, default=None)
    args = parser.parse_args()
    server = build(args.middleware)
    if args.http is not None:
        server.run_http(host="127.0.0.1", port=args.http, log_level="warning")
    else:
        server.run_stdio()


if __name__ == "__main__":
    main()
