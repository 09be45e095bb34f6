"""Server lifespans and the in-memory client: state reached by handlers in both eras, startup failures
as clear errors, shutdown on every way out, the ASGI lifespan of `http_app()`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.server import Context, Server
from mcpbind.server.lifespan import LifespanError, LifespanNotRunning

MODES = ["2024-11-05", "2025-11-25", "2026-07-28", "auto"]


@dataclass
class Db:
    rows: list[str] = field(default_factory=list)
    closed: bool = False


def make_server(log: list[str], fail: bool = False) -> Server:
    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[Db]:
        log.append(f"start {server.name}")
        if fail:
            raise OSError("database unreachable")
        db = Db()
        try:
            yield db
        finally:
            db.closed = True
            log.append("stop")

    server = Server("life", lifespan=lifespan)

    @server.tool()
    async def insert(row: str, ctx: Context) -> int:
        db = ctx.lifespan_as(Db)
        db.rows.append(row)
        return len(db.rows)

    @server.resource("rows://all")
    def rows() -> str:
        return ",".join(server.lifespan.state_as(Db).rows)

    return server


@pytest.mark.parametrize("mode", MODES)
def test_state_reaches_handlers_in_both_eras(mode: str) -> None:
    log: list[str] = []
    server = make_server(log)

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            assert (await client.call_tool("insert", {"row": "a"})).content[0].text == "1"
            assert (await client.call_tool("insert", {"row": "b"})).content[0].text == "2"
            read = await client.read_resource("rows://all")
            assert read.contents[0].text == "a,b"
            assert client.stateless == (client.revision == "2026-07-28")
        assert log == ["start life", "stop"]

    asyncio.run(main())


def test_startup_failure_is_a_clear_error_and_nothing_is_served() -> None:
    log: list[str] = []
    server = make_server(log, fail=True)

    async def main() -> None:
        with pytest.raises(LifespanError, match=r"lifespan of server .life. failed to start.*unreachable"):
            async with Client.memory(server):
                pass
        with pytest.raises(LifespanNotRunning):
            _ = server.lifespan.state

    asyncio.run(main())
    assert log == ["start life"]


def test_shutdown_runs_when_the_block_fails_and_entries_share_one_run() -> None:
    log: list[str] = []
    server = make_server(log)

    async def main() -> None:
        with pytest.raises(RuntimeError, match="user code"):
            async with Client.memory(server, mode="2025-11-25") as one:
                async with Client.memory(server, mode="2026-07-28") as two:
                    await one.call_tool("insert", {"row": "x"})
                    result = await two.call_tool("insert", {"row": "y"})
                    assert result.content[0].text == "2"  # one state for both
                raise RuntimeError("user code")
        assert log == ["start life", "stop"]
        with pytest.raises(LifespanNotRunning, match="is not running"):
            _ = server.lifespan.state

    asyncio.run(main())


def test_handler_outside_the_lifespan_gets_a_clear_error() -> None:
    log: list[str] = []
    server = make_server(log)
    app = server.http_app()  # never given its ASGI lifespan: the state is not there

    async def main() -> None:
        with pytest.raises(LifespanNotRunning, match=r"server\.running\(\)"):
            _ = server.lifespan.state
        assert app.server is server

    asyncio.run(main())


async def _asgi_lifespan(app: Any, *messages: str) -> list[dict[str, Any]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for message in messages:
        inbox.put_nowait({"type": message})
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app({"type": "lifespan"}, inbox.get, send), 10)
    return sent


def test_asgi_lifespan_runs_the_servers() -> None:
    log: list[str] = []
    server = make_server(log)

    async def main() -> None:
        sent = await _asgi_lifespan(server.http_app(), "lifespan.startup", "lifespan.shutdown")
        assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    asyncio.run(main())
    assert log == ["start life", "stop"]


def test_asgi_startup_failure_is_reported_to_the_asgi_server() -> None:
    log: list[str] = []
    server = make_server(log, fail=True)

    async def main() -> None:
        sent = await _asgi_lifespan(server.http_app(), "lifespan.startup")
        assert sent[0]["type"] == "lifespan.startup.failed"
        assert "database unreachable" in sent[0]["message"]

    asyncio.run(main())


def test_without_a_lifespan_the_state_is_none() -> None:
    server = Server("plain")

    @server.tool()
    async def state(ctx: Context) -> str:
        return repr(ctx.lifespan)

    async def main() -> None:
        async with Client.memory(server) as client:
            result = await client.call_tool("state", {})
            assert result.content[0].text == "None"

    asyncio.run(main())
