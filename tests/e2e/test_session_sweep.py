"""Idle sessions end with no request to notice them, under a real uvicorn on loopback. The sweep that
ends them ran only inside a POST: a server that stopped receiving POSTs kept its expired sessions (and
their handlers, streams and memory) for ever. Now a loop timer, armed while the table holds sessions,
ends each within about `sweep_every` of its timeout, and stops with the app's lifespan."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp, HttpSecurity

from ..http_support import call, open_session, request, serve_in_process

REVISION = "2025-11-25"
IDLE = 0.5


def _app() -> tuple[HttpApp, threading.Event, threading.Event]:
    server = Server("sweep", "1.0.0")
    started, cancelled = threading.Event(), threading.Event()

    @server.tool()
    async def hang() -> str:
        """Never answers, until cancelled."""
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        return "never"

    app = HttpApp(server, security=HttpSecurity(session_idle_timeout=IDLE))
    return app, started, cancelled


def _ended_within(app: HttpApp, bound: float) -> float:
    """Seconds until `app` holds no session (AssertionError past `bound`)."""
    begun = time.monotonic()
    while app.sessions:
        assert time.monotonic() - begun < bound, f"sessions still held: {list(app.sessions)}"
        time.sleep(0.05)
    return time.monotonic() - begun


@pytest.mark.parametrize("lifespan", ["on", "off"])
def test_an_idle_session_ends_with_no_request_after_it(lifespan: str) -> None:
    """A session whose client left a call running (its POST dropped) and sent nothing more: ended
    about its timeout after, its handler cancelled; its DELETE and its next POST get 404. With no
    lifespan events (`lifespan="off"`) the sweeper starts with the first session all the same."""
    app, started, cancelled = _app()

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, REVISION)
            dropped = asyncio.ensure_future(http.post(url, json=call(2, "hang"), headers=session.headers()))
            assert await asyncio.to_thread(started.wait, 10)
            dropped.cancel()  # the client leaves its call: its response closes, its handler runs on
            await asyncio.gather(dropped, return_exceptions=True)
            left = time.monotonic()
            # No request of any kind from here: the sweeper alone ends the session.
            waited = await asyncio.to_thread(_ended_within, app, IDLE + app.table.sweep_every + 2.0)
            assert time.monotonic() - left >= IDLE * 0.9  # (not before its timeout)
            assert waited >= 0
            assert await asyncio.to_thread(cancelled.wait, 5)
            gone = await http.delete(url, headers=session.headers())
            assert gone.status_code == 404, gone.text
            late = await http.post(url, json=request(3, "ping"), headers=session.headers())
            assert late.status_code == 404, late.text
            # No session left: the sweeper stopped; the next session arms it again.
            assert not app.table.sweeping
            await open_session(http, url, REVISION)
            assert app.table.sweeping

    with serve_in_process(app, lifespan) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))
    if lifespan == "on":
        # The lifespan's shutdown ended the last session and cancelled the sweeper.
        assert not app.sessions and not app.table.sweeping


def test_the_sweeper_follows_the_app_from_one_loop_to_the_next() -> None:
    """Served with no lifespan by one loop, then by another (tests do): the sweeper of the stopped
    loop is gone with it, and the new loop's first session arms one there, which ends it."""
    app, _, _ = _app()

    async def opened(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            await open_session(http, url, REVISION)

    with serve_in_process(app, "off") as url:
        asyncio.run(asyncio.wait_for(opened(url), 30))
    stale = set(app.sessions)
    assert stale  # (the first loop stopped before its sweep: its session is still in the table)
    with serve_in_process(app, "off") as url:
        asyncio.run(asyncio.wait_for(opened(url), 30))
        _ended_within(app, IDLE + app.table.sweep_every + 2.0)
