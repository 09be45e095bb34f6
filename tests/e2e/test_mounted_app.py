"""An endpoint mounted in another ASGI application ends its sessions when the server stops: the
application's lifespan (`server.running()`) is the only shutdown such an endpoint hears of. Mounted
under a prefix, it is served at its path within the mount."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from mcpbind.client import Client
from mcpbind.server import Context, Server

from ..http_support import (
    MODERN,
    call,
    error_of,
    modern,
    modern_headers,
    open_session,
    recording_lifespan,
    serve_in_process,
)


def waiting_tool(server: Server, events: list[str]) -> None:
    """Registers `wait`, a tool that runs until it is cancelled, noting in `events` when it started and
    when it was cancelled."""

    @server.tool()
    async def wait() -> str:
        events.append("tool started")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events.append("tool cancelled")
            raise
        return "never"


async def leave_a_call_running(url: str, events: list[str]) -> None:
    """A session's call of `wait`, left running once it started: its client leaves (a session's
    request outlives its connection)."""
    async with httpx.AsyncClient(timeout=30) as http:
        session = await open_session(http, url, "2025-11-25")
        calling = asyncio.ensure_future(http.post(url, json=call(2, "wait"), headers=session.headers()))
        for _ in range(1000):
            if "tool started" in events:
                break
            await asyncio.sleep(0.01)
        calling.cancel()
        with contextlib.suppress(BaseException):
            await calling


def test_the_mounting_apps_shutdown_ends_sessions_before_the_lifespan_closes() -> None:
    """A tool still running in a session when the application stops is cancelled (its session ended)
    before the server's lifespan exits, as under the endpoint's own ASGI lifespan: what the lifespan
    opened (a database) is never closed under a handler that still uses it."""
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[None]:
        yield
        events.append("lifespan exit")

    server = Server("mounted", lifespan=lifespan)

    waiting_tool(server, events)

    @contextlib.asynccontextmanager
    async def app_lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.running():
            yield

    app = Starlette(routes=[Mount("/", server.http_app())], lifespan=app_lifespan)

    async def start_a_call(url: str) -> None:
        await leave_a_call_running(url, events)

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(start_a_call(url), 60))
        assert events == ["tool started"]
    # The application has stopped: its lifespan left server.running().
    assert events == ["tool started", "tool cancelled", "lifespan exit"]


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_an_endpoint_mounted_under_a_prefix_is_served_there(mode: str) -> None:
    """`Mount("/api", server.http_app())`: the ASGI `path` is the whole path ("/api/mcp") and
    `root_path` the prefix; the endpoint answers at its path within the mount, with the state of the
    lifespan the parent application enters, beside the application's own routes."""
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[dict[str, str]]:
        events.append("start")
        yield {"db": "open"}
        events.append("stop")

    server = Server("prefixed", lifespan=lifespan)

    @server.tool()
    def db(ctx: Context) -> str:
        return str(ctx.lifespan["db"])

    health = Route("/health", lambda request: PlainTextResponse("ok"))
    app = Starlette(routes=[health, Mount("/api", server.http_app())], lifespan=lambda _: server.running())

    async def use(base: str) -> None:
        async with Client.http(f"{base}/api/mcp", mode=mode) as client:
            result = await client.call_tool("db")
            assert result.content[0].text == "open"
        async with httpx.AsyncClient(timeout=30) as http:
            assert (await http.get(f"{base}/health")).text == "ok"
            assert (await http.post(f"{base}/mcp", json={})).status_code == 404  # not at the root

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(use(url.removesuffix("/mcp")), 60))
        assert events == ["start"]
    assert events == ["start", "stop"]


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_a_mounted_endpoint_whose_application_never_enters_the_lifespan_starts_it_on_use(mode: str) -> None:
    """`Mount("/", server.http_app())` in an application with no lifespan wiring (Starlette passes a
    mounted application no lifespan events): every handler that reached the lifespan's state failed
    with an internal error. Now the first requests (several at once) start it once, handlers see its
    state, and when the application stops (its event loop ends) the session's running tool is
    cancelled before the lifespan exits, as under the ASGI lifespan."""
    events: list[str] = []

    # (Its start takes a while: the first requests all wait for the one start.)
    server = Server("unwired", lifespan=recording_lifespan(events, {"db": "open"}, pause=0.2))

    @server.tool()
    def db(ctx: Context) -> str:
        return str(ctx.lifespan["db"])

    waiting_tool(server, events)

    app = Starlette(routes=[Mount("/", server.http_app())])  # no lifespan: nothing enters server.running()

    async def use(url: str) -> None:
        clients = [Client.http(url, mode=mode) for _ in range(4)]
        async with contextlib.AsyncExitStack() as stack:
            opened = await asyncio.gather(*(stack.enter_async_context(c) for c in clients))
            results = await asyncio.gather(*(c.call_tool("db") for c in opened))
            assert [r.content[0].text for r in results] == ["open"] * 4
        await leave_a_call_running(url, events)

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(use(url), 60))
        assert events == ["lifespan enter", "tool started"]
    # The application's event loop has ended: the lifespan the first request started with it.
    assert events == ["lifespan enter", "tool started", "tool cancelled", "lifespan exit"]


def _lifespan_reader(name: str, lifespan: Any) -> Starlette:
    """A server of `lifespan` whose tool `db` says its state, mounted in an application that never
    enters the lifespan (its endpoint's first request starts it)."""
    server = Server(name, lifespan=lifespan)

    @server.tool()
    def db(ctx: Context) -> str:
        return str(ctx.lifespan)

    return Starlette(routes=[Mount("/", server.http_app())])


def test_a_lifespan_that_fails_to_start_on_use_is_a_500_and_tried_again() -> None:
    """The lifespan a mounted endpoint's first request starts fails: that request gets 500 with a
    JSON-RPC error (the log says why), and the next request starts it."""
    attempts: list[int] = []

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[str]:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise ConnectionError("the database is not up yet")
        yield "up"

    app = _lifespan_reader("flaky", lifespan)

    async def use(url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            message = modern(1, "tools/call", {"name": "db", "arguments": {}})
            failed = await http.post(url, json=message, headers=modern_headers(message))
            assert failed.status_code == 500, failed.text
            error = error_of(failed, MODERN)
            assert error["code"] == -32603 and "lifespan failed to start" in error["message"]
            served = await http.post(url, json=message, headers=modern_headers(message))
            assert served.status_code == 200, served.text
            assert served.json()["result"]["content"][0]["text"] == "up"

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(use(url), 60))
    assert attempts == [0, 1]


@pytest.mark.parametrize("kind", ["http", "websocket"])
def test_a_request_that_comes_while_the_lifespan_starts_on_use_waits_for_it(kind: str) -> None:
    """A mounted endpoint's first request starts the lifespan (`Lifespan.hold`); a second request that
    comes while that start still runs waits for it too. It was served at once, before the lifespan's
    state existed (the lifespan counted as entered from the start of its entry, not its end): its
    handler failed with `LifespanNotRunning`, answered as an internal error."""
    starting = threading.Event()
    release = threading.Event()

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[str]:
        starting.set()
        for _ in range(3000):  # until the test releases it (at most 30 s)
            if release.is_set():
                break
            await asyncio.sleep(0.01)
        yield "open"

    app = _lifespan_reader("slow-start", lifespan)
    message = modern(1, "tools/call", {"name": "db", "arguments": {}})

    async def second(url: str) -> str:
        if kind == "http":
            async with httpx.AsyncClient(timeout=30) as http:
                answer = await http.post(url, json=message, headers=modern_headers(message))
                assert answer.status_code == 200, answer.text
                return str(answer.json()["result"]["content"][0]["text"])
        async with Client.websocket(url.replace("http://", "ws://"), mode=MODERN) as client:
            result = await client.call_tool("db")
            return str(result.content[0].text)

    async def use(url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            first = asyncio.ensure_future(http.post(url, json=message, headers=modern_headers(message)))
            assert await asyncio.to_thread(starting.wait, 30)  # the first request's start runs
            later = asyncio.ensure_future(second(url))
            await asyncio.sleep(0.5)  # (the second request in flight while the start still runs)
            release.set()
            answered = await first
            assert answered.status_code == 200, answered.text
            assert answered.json()["result"]["content"][0]["text"] == "open"
            assert await later == "open"

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(use(url), 60))
