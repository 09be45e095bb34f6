"""A server's lifespan: what it opens at startup and closes at shutdown (a database, a client pool),
and the state handlers reach while it runs.

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[Database]:
        db = await Database.open()
        try:
            yield db          # what `ctx.lifespan` (or `ctx.lifespan_as(Database)`) gives handlers
        finally:
            await db.close()  # runs however serving ends

    server = Server("notes", lifespan=lifespan)

Every way of serving enters it: `run_stdio`/`serve_stdio`/`serve`, the ASGI lifespan of
`http_app()` (so `run_http` and uvicorn), `Client.memory`; an application that mounts `http_app()`
inside another (Starlette does not pass lifespan events to mounted apps) enters `server.running()` in
its own lifespan (without that, the endpoint's first request starts it: `hold`). Entries are
counted: the lifespan starts on the first and stops after the last, so several transports of one
process share one state.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

__all__ = ["Lifespan", "LifespanFactory", "LifespanError", "LifespanNotRunning"]

T = TypeVar("T")

LifespanFactory = Callable[[Any], AbstractAsyncContextManager[Any]]
"""`lifespan(server)`: an async context manager whose value is the state handlers reach."""


class LifespanError(RuntimeError):
    """The server's lifespan failed to start; serving does not begin (the cause is chained)."""


class LifespanNotRunning(RuntimeError):
    """A handler asked for the lifespan state while the server's lifespan was not running."""


_NOT_RUNNING = (
    "the lifespan of server {name!r} is not running: serve with run_stdio, run_http, serve or "
    "Client.memory, run http_app() under an ASGI server with lifespan events on, or enter "
    "`server.running()` in the lifespan of the application that mounts it"
)


class Lifespan:
    """Runs one server's lifespan factory, shared by every entry at once (counted)."""

    def __init__(self, factory: LifespanFactory | None, server: Any, name: str) -> None:
        self._factory = factory
        self._server = server
        self._name = name
        self._entries = 0
        self._manager: AbstractAsyncContextManager[Any] | None = None
        self._state: Any = None
        self._started = False
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_stop: list[weakref.WeakMethod[Callable[[], Awaitable[None]]]] = []
        self._started_by_use: asyncio.Future[None] | None = None
        """`hold`'s start, while it holds the lifespan (or is starting it)."""
        self._holder: asyncio.Task[None] | None = None

    @property
    def declared(self) -> bool:
        """The server has a lifespan of its own (`Server(lifespan=...)`)."""
        return self._factory is not None

    @property
    def entered(self) -> bool:
        """Something serving the server has entered the lifespan and not left it: its start has ended
        (counted from the start's end, not its beginning: a request that comes while the start runs
        is not served yet, it waits for the start, `hold`)."""
        return self._entries > 0 and (self._started or self._factory is None)

    def _locked(self) -> asyncio.Lock:
        """The lock of the running event loop (a server may be served by one loop after another, as
        tests do; a lock belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    @property
    def state(self) -> Any:
        """The value the lifespan yielded; `LifespanNotRunning` outside it. None without a lifespan."""
        if self._factory is None:
            return None
        if not self._started:
            raise LifespanNotRunning(_NOT_RUNNING.format(name=self._name))
        return self._state

    def state_as(self, tp: type[T]) -> T:
        """`state`, checked to be a `tp` (a TypeError names what it is instead)."""
        state = self.state
        if not isinstance(state, tp):
            raise TypeError(
                f"the lifespan state of server {self._name!r} is a {type(state).__name__}, not {tp.__name__}"
            )
        return state

    async def enter(self) -> Any:
        """Start the lifespan if this is the first entry; its state. `LifespanError` if it fails."""
        async with self._locked():
            self._entries += 1
            if self._factory is None or self._started:
                return self._state
            manager = self._factory(self._server)
            try:
                self._state = await manager.__aenter__()
            except Exception as exc:
                self._entries -= 1
                raise LifespanError(
                    f"the lifespan of server {self._name!r} failed to start: {exc!r}"
                ) from exc
            except BaseException:
                self._entries -= 1
                raise
            self._manager = manager
            self._started = True
            return self._state

    def close_on_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        """Await `close` (a bound method, held weakly) when the last entry leaves, before the lifespan's
        own exit: what serves on this server (an HTTP endpoint's sessions and open streams) ends with
        it, also when an application that mounts the endpoint is what runs the lifespan."""
        self._on_stop.append(weakref.WeakMethod(close))

    async def exit(self, exc: BaseException | None = None) -> None:
        """Leave one entry; the last one stops the lifespan (its exit runs whatever ended serving)."""
        async with self._locked():
            self._entries -= 1
            if self._entries > 0:
                return
            alive = [close for ref in self._on_stop if (close := ref()) is not None]
            self._on_stop = [weakref.WeakMethod(close) for close in alive]
            for close in alive:
                await close()
            manager = self._manager
            if manager is None:
                return
            self._manager = None
            self._started = False
            self._state = None
            await manager.__aexit__(
                type(exc) if exc is not None else None, exc, exc.__traceback__ if exc else None
            )

    async def hold(self) -> None:
        """Enter the lifespan until the running event loop's end, for what serves the server with no
        lifespan event to enter it at (an endpoint mounted in an application that does not enter
        `running()`: Starlette passes a mounted application no lifespan events; an ASGI server with
        lifespan events off): its first request starts it, and requests meanwhile wait for that
        start. A task of its own holds the entry; `asyncio.run` (under every ASGI server that runs
        on asyncio's own runner: uvicorn, hypercorn) cancels it at the loop's end, and that leaves
        the lifespan, what serves on it first (`close_on_stop`). `LifespanError` when the lifespan
        fails to start (the next request tries again)."""
        loop = asyncio.get_running_loop()
        started = self._started_by_use
        if started is None or started.get_loop() is not loop:
            started = self._started_by_use = loop.create_future()
            self._holder = loop.create_task(self._hold(started))
        # (Shielded: a request cancelled while it waits does not cancel the start other requests wait on.)
        await asyncio.shield(started)

    async def _hold(self, started: asyncio.Future[None]) -> None:
        try:
            await self.enter()
        except BaseException as exc:
            self._started_by_use = self._holder = None
            if isinstance(exc, Exception):
                started.set_exception(exc)
                return
            started.cancel()
            raise
        started.set_result(None)
        try:
            await _forever()
        finally:
            self._started_by_use = self._holder = None
            await asyncio.shield(self.exit())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Any]:
        state = await self.enter()
        try:
            yield state
        except BaseException as exc:
            # Shielded: a cancelled serve still closes what the lifespan opened.
            await asyncio.shield(self.exit(exc))
            raise
        await self.exit()


async def _forever() -> None:
    """Wait until cancelled (at the event loop's end, by `asyncio.run`)."""
    await asyncio.get_running_loop().create_future()
