"""An endpoint mounted in another ASGI application ends its sessions when the server stops: the
application's lifespan (`server.running()`) is the only shutdown such an endpoint hears of. Mounted
under a prefix, it is served at its path within the mount."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from mcpbind.client import Client
from mcpbind.server import Context, Server

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
