"""The server author's API over real transports: over Streamable HTTP (uvicorn on loopback, in this
process) middleware sees stateless tool calls that would otherwise take the direct path, and the
authenticated principal, and the lifespan runs with the ASGI lifespan; a lifespan that fails at
startup stops a stdio or HTTP server with the cause on stderr."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.server import Context, Server
from mcpbind.server.middleware import Call, Next
from mcpbind.transports.http import HttpSecurity

from ..http_support import SERVERS, free_port, serve_in_process

FAILING = str(SERVERS / "failing_lifespan.py")


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_middleware_and_lifespan_over_http(mode: str) -> None:
    seen: list[tuple[str, str | None]] = []
    lifespan_log: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[dict[str, int]]:
        lifespan_log.append("start")
        yield {"answer": 42}
        lifespan_log.append("stop")

    async def record(call: Call, call_next: Next) -> Any:
        seen.append((call.method, call.principal))
        return await call_next(call)

    server = Server("http-api", lifespan=lifespan, middleware=[record])

    @server.tool()
    def plain(x: int) -> int:  # no Context: the stateless direct path, were there no middleware
        return x + 1

    @server.tool()
    def answer(ctx: Context) -> int:
        return int(ctx.lifespan["answer"])

    async def verify(token: str) -> str | None:
        return "alice" if token == "t" else None

    async def token() -> str:
        return "t"

    async def main(url: str) -> None:
        async with Client.http(url, mode=mode, auth=token) as client:
            assert (await client.call_tool("plain", {"x": 1})).content[0].text == "2"
            assert (await client.call_tool("answer", {})).content[0].text == "42"

    with serve_in_process(server.http_app(security=HttpSecurity(verify_token=verify))) as url:
        asyncio.run(asyncio.wait_for(main(url), 60))
    assert ("tools/call", "alice") in seen
    assert sum(1 for method, _ in seen if method == "tools/call") == 2
    assert lifespan_log == ["start", "stop"]


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_a_failing_lifespan_stops_the_server_with_its_cause(transport: str) -> None:
    args = [] if transport == "stdio" else ["--transport", "http", "--port", str(free_port())]
    done = subprocess.run(
        [sys.executable, FAILING, *args], input=b"", capture_output=True, timeout=60, check=False
    )
    assert done.returncode != 0
    stderr = done.stderr.decode()
    assert "db.invalid:5432 refused the connection" in stderr
    if transport == "stdio":
        assert "LifespanError: the lifespan of server 'failing' failed to start" in stderr
        assert done.stdout == b""  # nothing was served
