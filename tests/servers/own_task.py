"""User coroutines that need a task of their own, for tests/e2e/test_own_task.py.

`python tests/servers/own_task.py [--middleware] (--stdio | --http PORT | --websocket PORT)`

Each handler checks what only holds when it runs from its first step to its end in one task dedicated
to its request: anyio cancel scopes (`fail_after`, a task group, httpx's) left in the task that entered
them, an `asyncio.timeout` that expires cancelling the handler alone, `asyncio.current_task()` the same
before and after an await. `recorded` tells whether every task a handler ran in has ended (a read
loop's or a connection's task would not have). `--middleware`: a middleware doing the same checks sees
every request.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import anyio
import httpx

from mcpbind.server import Context, Server
from mcpbind.server.middleware import Call, Next

TASKS: list[asyncio.Task[Any]] = []
"""Every task a handler of this server ran in, in this process."""
CANCELLED: list[str] = []
"""The names of the `hold` calls cancelled, in this process."""
STARTED: dict[str, asyncio.Event] = {}


async def checked() -> str:
    """The checks of a handler's task: "same" if they hold."""
    task = asyncio.current_task()
    assert task is not None
    TASKS.append(task)
    with anyio.fail_after(10):  # (a cancel scope entered in the first step, left after a wait)
        await asyncio.sleep(0.001)
    async with anyio.create_task_group() as group:
        group.start_soon(asyncio.sleep, 0.001)
    return "same" if asyncio.current_task() is task else "another task"


def build(middleware: bool = False) -> Server:
    server = Server("own-task", "1.0.0")

    @server.tool()
    async def same() -> str:
        """The checks, in a tool."""
        return await checked()

    @server.tool()
    async def expire() -> str:
        """A timeout that expires: the tool's own to handle."""
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(5)
        except TimeoutError:
            return "timed out"
        return "not timed out"

    @server.tool()
    async def expire_unhandled() -> str:
        """A timeout that expires, not handled: the tool's error."""
        async with asyncio.timeout(0.01):
            await asyncio.sleep(5)
        return "not timed out"

    @server.tool()
    async def scoped_first_step() -> str:
        """An anyio scope entered and left with no wait in between: done in its first step."""
        with anyio.fail_after(10):
            pass
        return "ok"

    @server.tool()
    async def fetch(url: str) -> str:
        """httpx against a loopback server (its cancel scopes entered in the first step)."""
        TASKS.append(asyncio.current_task())  # type: ignore[arg-type]  # (a task runs this)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url)
        return f"{response.status_code} {response.text}"

    @server.tool()
    async def hold(name: str) -> str:
        """Waits until cancelled (recorded in CANCELLED)."""
        try:
            STARTED.setdefault(name, asyncio.Event()).set()
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            CANCELLED.append(name)
            raise
        return "not cancelled"

    @server.tool()
    async def swallow(name: str) -> str:
        """Waits until cancelled, and answers its cancellation with a value (recorded in CANCELLED)."""
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            CANCELLED.append(name)
            return "cancelled, answered anyway"
        return "not cancelled"

    @server.tool()
    def cancelled() -> list[str]:
        """The `hold` calls cancelled so far."""
        return list(CANCELLED)

    @server.tool()
    async def ask(ctx: Context) -> str:
        """Asks the client to sample, then to elicit: the client's callbacks check their own tasks."""
        sampled = await ctx.sample("hello", max_tokens=5)
        elicited = await ctx.elicit("Name?", {"type": "object", "properties": {"name": {"type": "string"}}})
        content = sampled.content
        said = content.text if hasattr(content, "text") else str(content)
        return f"{said} {elicited.content['name'] if elicited.content else None}"

    @server.tool()
    def recorded() -> list[bool]:
        """Whether each task a handler ran in has ended, in order (a sync tool: run inline), but the
        one this runs in (a middleware's)."""
        return [task.done() for task in TASKS if task is not asyncio.current_task()]

    @server.resource("own://same")
    async def resource() -> str:
        return await checked()

    @server.prompt()
    async def prompt() -> str:
        return await checked()

    if middleware:

        async def check(call: Call, call_next: Next) -> Any:
            outcome = await checked()
            assert outcome == "same", outcome
            return await call_next(call)

        server.add_middleware(check)
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--middleware", action="store_true")
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--http", type=int, default=None)
    parser.add_argument("--websocket", type=int, default=None)
    args = parser.parse_args()
    server = build(args.middleware)
    if args.http is not None:
        server.run_http(host="127.0.0.1", port=args.http, log_level="warning")
    elif args.websocket is not None:
        server.run_websocket(host="127.0.0.1", port=args.websocket)
    else:
        server.run_stdio()


if __name__ == "__main__":
    main()
