"""Middleware around every request and notification, in both eras, through the in-memory client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.server import Context, Server
from mcpbind.server.middleware import Call, Next

MODES = ["2025-06-18", "2025-11-25", "2026-07-28"]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def make_server(seen: list[tuple[str, ...]]) -> Server:
    async def outer(call: Call, call_next: Next) -> Any:
        seen.append(("outer", call.method, call.revision or "-", str(call.stateless)))
        started = time.perf_counter()
        try:
            return await call_next(call)
        finally:
            call.extra["ms"] = (time.perf_counter() - started) * 1e3
            seen.append(("outer done", call.method, f"{call.extra['ms'] >= 0}"))

    async def inner(call: Call, call_next: Next) -> Any:
        seen.append(("inner", call.method))
        if call.method == "tools/call" and call.params.name == "forbidden":
            raise McpError("rate limited", code=-32000, data={"retryAfter": 1})
        result = await call_next(call)
        if call.method == "tools/call":
            seen.append(("result", type(result).__name__))
        return result

    server = Server("mw", middleware=[outer])
    server.add_middleware(inner)

    @server.tool()
    def plain(x: int) -> str:  # no Context: stateless calls of it have a direct path without middleware
        return str(x * 2)

    @server.tool()
    async def with_ctx(ctx: Context) -> str:
        return ctx.revision

    @server.tool()
    def forbidden() -> str:
        raise AssertionError("never reached: the middleware refuses it")

    return server


@pytest.mark.parametrize("mode", MODES)
def test_ordered_hooks_see_every_request_and_can_short_circuit(mode: str) -> None:
    seen: list[tuple[str, ...]] = []
    server = make_server(seen)

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            assert (await client.call_tool("plain", {"x": 21})).content[0].text == "42"
            assert (await client.call_tool("with_ctx", {})).content[0].text == mode
            with pytest.raises(McpError, match="rate limited") as refused:
                await client.call_tool("forbidden", {})
            assert refused.value.code == -32000
            # The server goes on serving after a refusal.
            assert (await client.call_tool("plain", {"x": 1})).content[0].text == "2"

    run(main())
    calls = [s for s in seen if s[0] == "outer" and s[1] == "tools/call"]
    assert calls == [("outer", "tools/call", mode, str(mode == "2026-07-28"))] * 4
    # Outer wraps inner: outer, inner, (result), outer done, per call.
    first = seen.index(calls[0])
    assert [s[0] for s in seen[first : first + 4]] == ["outer", "inner", "result", "outer done"]
    if mode != "2026-07-28":
        assert ("outer", "initialize", "-", "False") in seen
        assert any(s[:2] == ("outer", "notifications/initialized") for s in seen)


def test_middleware_turns_off_the_direct_path() -> None:
    server = Server("direct")

    @server.tool()
    def plain() -> str:
        return "x"

    assert server.takes_no_context("plain")

    async def passthrough(call: Call, call_next: Next) -> Any:
        return await call_next(call)

    server.add_middleware(passthrough)
    assert not server.takes_no_context("plain")


def test_a_middleware_can_answer_and_rewrite() -> None:
    server = Server("rewrite")

    @server.tool()
    def echo(text: str) -> str:
        return text

    async def shout(call: Call, call_next: Next) -> Any:
        if call.method == "tools/call" and call.params.arguments.get("text") == "cached":
            return {"content": [{"type": "text", "text": "from cache"}]}
        return await call_next(call)

    server.add_middleware(shout)

    async def main() -> None:
        for mode in MODES:
            async with Client.memory(server, mode=mode) as client:
                assert (await client.call_tool("echo", {"text": "cached"})).content[0].text == "from cache"
                assert (await client.call_tool("echo", {"text": "real"})).content[0].text == "real"

    run(main())


def test_principal_is_none_without_authentication() -> None:
    principals: list[Any] = []
    server = Server("who")

    @server.tool()
    def who() -> str:
        return "?"

    async def record(call: Call, call_next: Next) -> Any:
        principals.append(call.principal)
        return await call_next(call)

    server.add_middleware(record)

    async def main() -> None:
        async with Client.memory(server, mode="2026-07-28") as client:
            await client.call_tool("who", {})

    run(main())
    assert principals and set(principals) == {None}


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_a_middleware_answering_none_is_an_error_not_a_null_result(mode: str) -> None:
    async def swallow(call: Call, call_next: Next) -> Any:
        if call.method == "tools/call":
            return None  # not a result of any revision
        return await call_next(call)

    server = Server("mw-none", middleware=[swallow])

    @server.tool()
    async def echo(text: str, ctx: Context) -> str:
        return text

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:  # type: ignore[arg-type]
            with pytest.raises(McpError) as refused:
                await client.request("tools/call", {"name": "echo", "arguments": {"text": "x"}})
            assert refused.value.code == -32603, refused.value
            assert [t.name for t in await client.list_tools()] == ["echo"]  # serving goes on

    run(main())
