"""An endpoint mounted in another ASGI application ends its sessions when the server stops: the
application's lifespan (`server.running()`) is the only shutdown such an endpoint hears of."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from mcpbind.server import Server

from ..http_support import call, open_session, serve_in_process


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

    @server.tool()
    async def wait() -> str:
        events.append("tool started")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events.append("tool cancelled")
            raise
        return "never"

    @contextlib.asynccontextmanager
    async def app_lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.running():
            yield

    app = Starlette(routes=[Mount("/", server.http_app())], lifespan=app_lifespan)

    async def start_a_call(url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            session = await open_session(http, url, "2025-11-25")
            calling = asyncio.ensure_future(http.post(url, json=call(2, "wait"), headers=session.headers()))
            for _ in range(1000):
                if "tool started" in events:
                    break
                await asyncio.sleep(0.01)
            calling.cancel()  # the client leaves; a session's request outlives its connection
            with contextlib.suppress(BaseException):
                await calling

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(start_a_call(url), 60))
        assert events == ["tool started"]
    # The application has stopped: its lifespan left server.running().
    assert events == ["tool started", "tool cancelled", "lifespan exit"]
