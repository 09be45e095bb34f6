"""User coroutines that abuse the task of their own each runs in (`mcpbind.aio.own`): every call gets a
clear JSON-RPC answer (none when cancelled) and the server lives on.

The server (tests/servers/hostile_tasks.py) runs in a process of its own, over stdio and under uvicorn,
in both eras, and is called through mcpbind's client. Its tools raise BaseException subclasses
(KeyboardInterrupt, SystemExit, GeneratorExit, one of their own) in their first step or after a wait,
cancel their own task, block the loop, return awaitables that are no coroutines, read a context
variable a middleware set, and start background tasks; `stats` says what the server's loop holds.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from mcpbind.client import Client

from ..http_support import SERVERS, free_port, serve_command

SCRIPT = str(SERVERS / "hostile_tasks.py")
ERAS = ["2025-11-25", "2026-07-28"]
TRANSPORTS = ["stdio", "http"]
TIMEOUT = 60
KINDS = ["keyboard", "exit", "generator", "custom"]


@asynccontextmanager
async def _client(transport: str, era: str, *flags: str) -> AsyncIterator[Client]:
    if transport == "stdio":
        async with Client.stdio(sys.executable, [SCRIPT, "--stdio", *flags], mode=era) as client:
            yield client
        return
    port = free_port()
    with serve_command(port, SCRIPT, "--http", str(port), *flags):
        async with Client.http(f"http://127.0.0.1:{port}/mcp", mode=era) as client:
            yield client


def _text(result: Any) -> str:
    return str(result.content[0].text)


async def _stats(client: Client) -> dict[str, int]:
    stats = (await client.call_tool("stats", {})).structured_content
    assert isinstance(stats, dict), stats
    return stats


async def _failed(client: Client, name: str, arguments: dict[str, Any]) -> None:
    """The call is answered as the tool's failure, and the server answers the next one."""
    result = await client.call_tool(name, arguments)
    assert result.is_error and "failed" in _text(result), (name, arguments, result)
    assert (await _stats(client))["tasks"] > 0


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_base_exceptions_a_coroutine_raises_are_its_calls_failure(transport: str, era: str) -> None:
    async def run() -> None:
        async with asyncio.timeout(TIMEOUT), _client(transport, era) as client:
            for kind in KINDS:
                for wait in (False, True):
                    await _failed(client, "raise_base", {"kind": kind, "wait": wait})

    asyncio.run(run())


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_base_exceptions_of_functions_run_inline_are_their_calls_failure(transport: str, era: str) -> None:
    """A sync tool, and an `async def` with no await (run inline, in no task of their own)."""

    async def run() -> None:
        async with asyncio.timeout(TIMEOUT), _client(transport, era) as client:
            for kind in KINDS:
                await _failed(client, "raise_sync", {"kind": kind})
                await _failed(client, "raise_at_once", {"kind": kind})

    asyncio.run(run())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_base_exceptions_through_a_middleware(transport: str) -> None:
    async def run() -> None:
        async with asyncio.timeout(TIMEOUT), _client(transport, "2025-11-25", "--middleware") as client:
            for kind in ("keyboard", "exit"):
                for wait in (False, True):
                    await _failed(client, "raise_base", {"kind": kind, "wait": wait})

    asyncio.run(run())
