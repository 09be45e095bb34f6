"""The server's own lifespan (`Server(lifespan=...)`) under `redis_app`, what `run_http(redis=...)`
serves: entered at the ASGI startup, after Redis answered, and left at shutdown once the sessions have
ended. A real redis-server of this module's own (its connections open and close with the app's, which
no test of connection counts on the shared one must see) and the app under uvicorn in this process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

pytest.importorskip("redis")

from mcpbind.client import Client
from mcpbind.server import Context, Server
from mcpbind.transports.http.redis import RedisConnection, redis_app

from ..http_support import recording_lifespan, serve_in_process
from ..redis_support import RedisServer


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.close()


def test_the_servers_lifespan_runs_from_startup_to_shutdown(redis_server: RedisServer) -> None:
    """It was never entered by the Redis app's lifespan (a handler reaching `ctx.lifespan` failed, or,
    since an endpoint with no lifespan event starts it on use, it began with the first request and a
    startup failure went unseen until then)."""
    events: list[str] = []
    server = Server("redis-lifespan", lifespan=recording_lifespan(events, {"db": "open"}))

    @server.tool()
    def db(ctx: Context) -> str:
        return str(ctx.lifespan["db"])

    app = redis_app(server, RedisConnection(redis_server.url, prefix="lifespan:"))

    async def use(url: str) -> None:
        async with Client.http(url, mode="2025-11-25") as client:
            assert (await client.call_tool("db")).content[0].text == "open"

    with serve_in_process(app) as url:
        assert events == ["lifespan enter"]  # at startup, before any request
        asyncio.run(asyncio.wait_for(use(url), 60))
    assert events == ["lifespan enter", "lifespan exit"]


def test_a_lifespan_that_fails_stops_the_startup(redis_server: RedisServer) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[None]:
        raise ConnectionError("the database is not up")
        yield

    app = redis_app(Server("redis-failing", lifespan=lifespan), RedisConnection(redis_server.url))
    sent: list[dict[str, Any]] = []

    async def main() -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        inbox.put_nowait({"type": "lifespan.startup"})

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(app({"type": "lifespan"}, inbox.get, send), 10)
        await app.connection.close()

    asyncio.run(main())
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "the database is not up" in sent[0]["message"]
