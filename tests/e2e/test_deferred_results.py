"""A tool that is a plain `def` returning an awaitable (a sync wrapper of a coroutine function, say)
answers with what that awaitable gives, on every route: in memory and over stdio (one step), HTTP
(a session's call ahead of the classifier, the stateless wire's, and the general route, with a
middleware), WebSocket, and run as a task. Its return annotation may say so (`Awaitable[T]`,
`Coroutine[Any, Any, T]`): its output schema is T's (such an annotation was refused at registration:
"unsupported type hint")."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.server import Context, Server
from mcpbind.transports.websocket.standalone import start

from ..http_support import serve_in_process

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
WAIT = 30
ROOT = Path(__file__).resolve().parents[2]


async def _later(text: str) -> str:
    await asyncio.sleep(0)  # (waits a loop turn: the call is carried on)
    return text + "!"


async def _now(text: str) -> str:
    return text + "?"


async def _count(n: int) -> int:
    await asyncio.sleep(0)
    return n + 1


def _server(*, middleware: bool = False, tasks: bool = False) -> Server:
    server = Server("deferred", "1.0.0")

    @server.tool()
    def later(text: str) -> Awaitable[str]:
        """A wrapper whose coroutine waits."""
        return _later(text)

    @server.tool()
    def now(text: str) -> Coroutine[Any, Any, str]:
        """A wrapper whose coroutine is done in its first step."""
        return _now(text)

    @server.tool()
    def count(n: int) -> Awaitable[int]:
        """Structured output: the schema of what the awaitable gives."""
        return _count(n)

    @server.tool()
    def unsaid(text: str):  # type: ignore[no-untyped-def]  # (no annotation says what it gives)
        return _later(text)

    @server.tool()
    def with_context(text: str, ctx: Context) -> Awaitable[str]:
        """The general path (a Context)."""
        return _later(text)

    @server.tool()
    def broken(text: str) -> Awaitable[str]:
        """An awaitable that fails: the tool's failure."""

        async def fail() -> str:
            await asyncio.sleep(0)
            raise ValueError(f"broken: {text}")

        return fail()

    if tasks:

        @server.tool(task_support="optional")
        def in_task(text: str) -> Awaitable[str]:
            return _later(text)

    if middleware:

        @server.add_middleware
        async def passing(call: Any, call_next: Any) -> Any:
            return await call_next(call)

    return server


def test_an_awaitable_annotation_gives_its_values_schema() -> None:
    got = asyncio.run(asyncio.wait_for(_listed(_server()), WAIT))
    assert got["count"] == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
    }
    assert got["later"] is None and got["now"] is None and got["unsaid"] is None


async def _listed(server: Server) -> dict[str, Any]:
    async with Client.memory(server, mode=LEGACY) as client:
        return {t.name: _schema(t.output_schema) for t in await client.list_tools()}


def _schema(schema: Any) -> Any:
    import msgspec

    return None if schema is None or schema is msgspec.UNSET else msgspec.to_builtins(schema)


async def _calls(client: Client, tasks: bool = False) -> list[Any]:
    got: list[Any] = []
    for name, arguments in [
        ("later", {"text": "a"}),
        ("now", {"text": "b"}),
        ("count", {"n": 41}),
        ("unsaid", {"text": "c"}),
        ("with_context", {"text": "d"}),
        ("broken", {"text": "e"}),
    ]:
        result = await client.call_tool(name, arguments)
        got.append(_said(result))
    if tasks:
        result = await client.call_tool("in_task", {"text": "f"})
        got.append(_said(result))
        if not client.stateless:
            handle = await client.start_tool_task("in_task", {"text": "g"})
            got.append(_said(await asyncio.wait_for(handle.result(), WAIT)))
    return got


def _said(result: Any) -> Any:
    import msgspec

    structured = result.structured_content
    return (
        [block.text for block in result.content],
        None if structured is msgspec.UNSET else structured,
        bool(result.is_error),
    )


EXPECTED = [
    (["a!"], None, False),
    (["b?"], None, False),
    (["42"], {"result": 42}, False),
    (["c!"], None, False),
    (["d!"], None, False),
    (["Tool broken failed (internal error)"], None, True),
]
IN_TASKS = [(["f!"], None, False), (["g!"], None, False)]


@pytest.mark.parametrize("mode", [LEGACY, MODERN])
@pytest.mark.parametrize("kind", ["plain", "middleware", "tasks"])
def test_in_memory(mode: str, kind: str) -> None:
    server = _server(middleware=kind == "middleware", tasks=kind == "tasks")

    async def main() -> list[Any]:
        async with Client.memory(server, mode=mode) as client:
            return await _calls(client, tasks=kind == "tasks")

    expected = [*EXPECTED, *(IN_TASKS[: 2 if mode == LEGACY else 1] if kind == "tasks" else [])]
    assert asyncio.run(asyncio.wait_for(main(), WAIT)) == expected


@contextmanager
def _http(server: Server) -> Iterator[str]:
    with serve_in_process(server.http_app()) as url:
        yield url


@pytest.mark.parametrize("mode", [LEGACY, MODERN])
@pytest.mark.parametrize("kind", ["plain", "middleware", "tasks"])
def test_over_http(mode: str, kind: str) -> None:
    server = _server(middleware=kind == "middleware", tasks=kind == "tasks")

    async def main(url: str) -> list[Any]:
        async with Client.http(url, mode=mode) as client:
            return await _calls(client, tasks=kind == "tasks")

    expected = [*EXPECTED, *(IN_TASKS[: 2 if mode == LEGACY else 1] if kind == "tasks" else [])]
    with _http(server) as url:
        assert asyncio.run(asyncio.wait_for(main(url), WAIT)) == expected


@pytest.mark.parametrize("mode", [LEGACY, MODERN])
def test_over_websocket(mode: str) -> None:
    server = _server()

    async def main() -> list[Any]:
        listening, _ = await start(server, "127.0.0.1", 0)
        try:
            port = listening.sockets[0].getsockname()[1]
            async with Client.websocket(f"ws://127.0.0.1:{port}/mcp", mode=mode) as client:
                return await _calls(client)
        finally:
            listening.close()

    assert asyncio.run(asyncio.wait_for(main(), WAIT)) == EXPECTED


@pytest.mark.parametrize("mode", [LEGACY, MODERN])
def test_over_stdio(mode: str) -> None:
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
    script += "from tests.e2e.test_deferred_results import _server\n_server().run_stdio()"

    async def main() -> list[Any]:
        async with Client.stdio(sys.executable, ["-c", script], mode=mode) as client:
            return await _calls(client)

    assert asyncio.run(asyncio.wait_for(main(), WAIT)) == EXPECTED
