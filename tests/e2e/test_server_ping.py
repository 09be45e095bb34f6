"""`Context.ping()`: a tool asks the client whether it is still there, over a session (every revision
that has a server-to-client ping, in memory and over Streamable HTTP under real uvicorn, where the ping
goes out on the call's SSE stream); a client that does not answer makes it raise `RequestTimeout` within
its timeout; in the 2026-07-28 revision, which has no ping and where a server sends the client nothing
outside `InputRequiredResult`, it raises at once and sends nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError, RequestTimeout
from mcpbind.server import Connection, Context, Server

from ..conftest import REVISIONS
from ..http_support import serve_in_process
from ..peer_support import RecordingTransport

SESSION_REVISIONS = [r for r in REVISIONS if r < "2026"]
ENVELOPE_REVISIONS = [r for r in REVISIONS if r >= "2026"]


def pinging_server() -> Server:
    server = Server("pinging", "1.0.0")

    @server.tool()
    async def alive(ctx: Context) -> str:
        """Ping the client, and say how it went."""
        try:
            await ctx.ping(timeout=60)
        except McpError as exc:
            return f"no ping: {exc}"
        return "pong"

    return server


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


def text(result: Any) -> str:
    return str(result.content[0].text)


@pytest.mark.parametrize("revision", SESSION_REVISIONS)
def test_a_tool_pings_the_client_in_memory(revision: str) -> None:
    async def main() -> None:
        async with Client.memory(pinging_server(), mode=revision) as client:
            assert text(await client.call_tool("alive", {})) == "pong"
            assert text(await client.call_tool("alive", {})) == "pong"  # and again: nothing left over

    run(main())


@pytest.mark.parametrize("revision", ["2024-11-05", "2025-11-25"])
def test_a_tool_pings_the_client_over_streamable_http(revision: str) -> None:
    async def main(url: str) -> None:
        async with Client.http(url, mode=revision) as client:
            assert text(await client.call_tool("alive", {})) == "pong"

    with serve_in_process(pinging_server().http_app()) as url:
        run(main(url))


@pytest.mark.parametrize("revision", ENVELOPE_REVISIONS)
def test_the_envelope_era_has_no_ping_and_says_so(revision: str) -> None:
    async def main() -> None:
        async with Client.memory(pinging_server(), mode=revision) as client:
            answer = text(await client.call_tool("alive", {}))
            assert answer.startswith(f"no ping: protocol revision {revision} has no ping"), answer

    run(main())


def test_a_client_that_does_not_answer_makes_ping_time_out() -> None:
    async def main() -> None:
        wire = RecordingTransport()  # reads nothing: the ping is never answered
        conn = Connection(Server("ctx", "1.0.0"), wire)
        ctx = Context(conn, 1, "2025-11-25", {}, {})
        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            await ctx.ping(timeout=0.5)
        assert time.monotonic() - started < 30
        ping, cancelled = wire.out  # the ping, then its cancellation once it timed out
        assert b'"method":"ping"' in ping and b'"notifications/cancelled"' in cancelled

    run(main())
