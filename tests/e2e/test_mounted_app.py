"""An endpoint mounted in another ASGI application ends its sessions when the server stops: the
application's lifespan (`server.running()`) is the only shutdown such an endpoint hears of."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from mcpbind.server import Server

from ..http_support import call, free_port, open_session


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
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)

    async def main() -> None:
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx.AsyncClient(timeout=30) as http:
            session = await open_session(http, url, "2025-11-25")
            calling = asyncio.ensure_future(http.post(url, json=call(2, "wait"), headers=session.headers()))
            for _ in range(1000):
                if "tool started" in events:
                    break
                await asyncio.sleep(0.01)
            assert events == ["tool started"]
            uv.should_exit = True  # the application stops: its lifespan leaves server.running()
            stopped = await asyncio.to_thread(thread.join, 30)
            assert stopped is None and not thread.is_alive(), "the mounting application did not stop"
            calling.cancel()
            with contextlib.suppress(BaseException):
                await calling

    try:
        asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        uv.should_exit = True
        thread.join(30)
    assert events == ["tool started", "tool cancelled", "lifespan exit"]
