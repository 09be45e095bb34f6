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
from mcpbind.errors import McpError

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


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_odd_coroutines_are_answered(transport: str, era: str) -> None:
    """A tool that cancels its own task (the tool's failure: nothing cancelled the request), one that
    awaits what yields a value no task can wait on (its failure), one that blocks the loop (a call
    sent meanwhile is answered after it), awaitables that are no coroutines, and background tasks a
    tool leaves behind (they run on; nothing of the call's stays)."""

    async def run() -> None:
        async with asyncio.timeout(TIMEOUT), _client(transport, era) as client:
            base = await _stats(client)
            for wait in (False, True):
                await _failed(client, "cancel_self", {"wait": wait})
                await _failed(client, "bad_yield", {"wait": wait})  # (asyncio: "bad yield")
            await _failed(client, "bad_yield_sync", {})
            await _failed(client, "returns_spent", {})  # (a coroutine closed already)
            await _failed(client, "returns_bad_awaitable", {})  # (its `__await__` gives no iterator)
            with pytest.raises(McpError) as refused:  # a value that is no JSON, as any other
                await client.call_tool("returns_coroutine", {})
            assert refused.value.code == -32603
            blocked = asyncio.ensure_future(client.call_tool("block", {"seconds": 1.0}))
            await asyncio.sleep(0.2)
            assert _text(await client.call_tool("later", {"value": "meanwhile"})) == "meanwhile"
            assert _text(await blocked) == "blocked"
            assert _text(await client.call_tool("later_async", {"value": "a"})) == "a"
            assert _text(await client.call_tool("future_tool", {"value": "f"})) == "f"
            assert _text(await client.call_tool("spawn", {"count": 5, "seconds": 0.2})) == "spawned 5"
            for _ in range(200):  # until the background tasks are done (bounded)
                stats = await _stats(client)
                if stats["background"] == 5 and stats["tasks"] <= base["tasks"]:
                    break
                await asyncio.sleep(0.05)
            assert stats["background"] == 5 and stats["tasks"] <= base["tasks"], (base, stats)

    asyncio.run(run())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_context_variable_a_middleware_sets_is_the_tools(transport: str) -> None:
    """A context variable a middleware sets is seen by the tool, before and after a wait; one a tool
    sets (sync, inline or in its own task) is its call's alone: the next call does not see it."""

    async def run() -> None:
        for era in ERAS:
            for flags, seen in ((("--middleware",), "set"), ((), "unset")):
                async with asyncio.timeout(TIMEOUT), _client(transport, era, *flags) as client:
                    for wait in (False, True):
                        assert _text(await client.call_tool("seen", {"wait": wait})) == f"{seen} {seen}"
                    setters = [("set_sync", {}), ("set_at_once", {})]
                    setters += [("set_async", {"wait": wait}) for wait in (False, True)]
                    for setter, arguments in setters:
                        assert (
                            _text(await client.call_tool(setter, {"value": "leaked", **arguments}))
                            == "leaked"
                        )
                        assert _text(await client.call_tool("get_sync", {})) == seen
                        for wait in (False, True):
                            assert _text(await client.call_tool("get_async", {"wait": wait})) == seen

    asyncio.run(run())


@pytest.mark.parametrize("era", ERAS)
def test_many_waiting_calls_then_the_client_leaves(era: str) -> None:
    """1,000 calls waiting at once (a session admits 63 and its GET stream: the rest are refused, busy,
    with an answer each), then the client closes: no call runs on, and the server's loop holds what it
    held before."""
    count = 1000

    async def run() -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        with serve_command(port, SCRIPT, "--http", str(port)):
            async with asyncio.timeout(TIMEOUT * 2), Client.http(url, mode=era) as probe:
                base = await _stats(probe)
                client = Client.http(url, mode=era, request_timeout=TIMEOUT)
                await client.__aenter__()
                try:
                    calls = [
                        asyncio.ensure_future(client.call_tool("wait", {"seconds": 120}))
                        for _ in range(count)
                    ]
                    for _ in range(600):  # until each call waits in its tool or is refused (bounded)
                        refused = [call for call in calls if call.done()]
                        if (await _stats(probe))["waiting"] + len(refused) == count:
                            break
                        await asyncio.sleep(0.05)
                    # Stateless, every call is admitted; a session's are bounded (64 requests, its
                    # client's GET stream one of them), the rest refused with an answer each.
                    waiting = (await _stats(probe))["waiting"]
                    assert waiting == (count if era == "2026-07-28" else 63), waiting
                    refused = [call for call in calls if call.done()]
                    assert waiting + len(refused) == count
                    for call in refused:
                        assert "busy" in str(call.exception()), call.exception()
                finally:
                    await client.__aexit__(None, None, None)
                outcomes = await asyncio.gather(*calls, return_exceptions=True)
                assert all(isinstance(outcome, Exception) for outcome in outcomes)
                for _ in range(200):  # until nothing of the calls is left (bounded)
                    stats = await _stats(probe)
                    if stats["waiting"] == 0 and stats["tasks"] <= base["tasks"]:
                        break
                    await asyncio.sleep(0.05)
                assert stats["waiting"] == 0 and stats["tasks"] <= base["tasks"], (base, stats)

    asyncio.run(run())


class _Custom(BaseException):
    """A BaseException of a client callback's own."""


_CALLBACK_RAISES: dict[str, type[BaseException]] = {
    "custom": _Custom,
    "generator": GeneratorExit,
    "cancel": asyncio.CancelledError,
    "exit": SystemExit,
}


@pytest.mark.parametrize("kind", sorted(_CALLBACK_RAISES))
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_client_callbacks_base_exception_is_the_servers_error_answer(transport: str, kind: str) -> None:
    """A sampling callback that raises a BaseException (its own, GeneratorExit, a CancelledError while
    nothing cancels it, SystemExit), in its first step or after a wait: the server's request gets an
    error answer (the tool that asked fails), and the client's connection goes on (it ended, or the
    server's request waited out its timeout)."""
    script = str(SERVERS / "own_task.py")

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "Ada"}}

    async def run() -> None:
        for wait in (False, True):

            async def sampling(params: dict[str, Any], wait: bool = wait) -> dict[str, Any]:
                if wait:
                    await asyncio.sleep(0.01)
                raise _CALLBACK_RAISES[kind]("from the callback")

            options: dict[str, Any] = {
                "mode": "2025-11-25",
                "sampling": sampling,
                "elicitation": elicitation,
                "request_timeout": TIMEOUT,
            }
            async with asyncio.timeout(TIMEOUT):
                if transport == "stdio":
                    client = Client.stdio(sys.executable, [script, "--stdio"], **options)
                    async with client:
                        await _asked(client)
                else:
                    port = free_port()
                    with serve_command(port, script, "--http", str(port)):
                        async with Client.http(f"http://127.0.0.1:{port}/mcp", **options) as client:
                            await _asked(client)

    asyncio.run(run())


async def _asked(client: Client) -> None:
    result = await client.call_tool("ask", {})
    assert result.is_error and "sampling/createMessage was an error" in _text(result), result
    assert _text(await client.call_tool("same", {})) == "same"


@pytest.mark.parametrize("era", ERAS)
def test_a_tool_raising_on_its_cancellation_gets_no_answer(era: str) -> None:
    """A tool that answers its cancellation (`notifications/cancelled`) by raising a BaseException:
    the cancelled request gets no answer, whatever it raised, and the server serves the next one (over
    stdio, where every answer would show)."""
    import json
    import select
    import subprocess

    prefix = "io.modelcontextprotocol/"
    meta = {
        f"{prefix}protocolVersion": era,
        f"{prefix}clientInfo": {"name": "raw", "version": "1"},
        f"{prefix}clientCapabilities": {},
    }
    server = subprocess.Popen(
        [sys.executable, SCRIPT, "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert server.stdin is not None and server.stdout is not None
    stdin, stdout = server.stdin, server.stdout

    def send(message: dict[str, Any]) -> None:
        stdin.write((json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())
        stdin.flush()

    def call(rid: int, name: str, arguments: dict[str, Any]) -> None:
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        if era == "2026-07-28":
            params["_meta"] = meta
        send({"id": rid, "method": "tools/call", "params": params})

    def answer() -> dict[str, Any]:
        ready, _, _ = select.select([stdout], [], [], TIMEOUT)
        assert ready, "no answer"
        return dict(json.loads(stdout.readline()))

    def waiting() -> int:
        call(100, "stats", {})
        stats = answer()
        assert stats["id"] == 100, stats  # (the only answer: the cancelled call's never comes)
        return int(stats["result"]["structuredContent"]["waiting"])

    try:
        if era != "2026-07-28":
            hello = {
                "protocolVersion": era,
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            }
            send({"id": 0, "method": "initialize", "params": hello})
            assert answer()["id"] == 0
            send({"method": "notifications/initialized"})
        for rid, kind in enumerate(KINDS, 1):
            call(rid, "raise_when_cancelled", {"kind": kind})
            for _ in range(200):  # until it waits (bounded)
                if waiting() == 1:
                    break
            send({"method": "notifications/cancelled", "params": {"requestId": rid}})
            for _ in range(200):  # until its cancellation has run (bounded)
                if waiting() == 0:
                    break
            assert waiting() == 0
        stdin.close()
        assert stdout.read() == b""  # nothing more: no answer to any cancelled call
        assert server.wait(TIMEOUT) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
