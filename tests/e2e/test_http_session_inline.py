"""A session's calls of tools that take no Context, answered inline over real HTTP (`Connection.plain_call`).

Such a call is answered in its first step with no stream, mailbox or peer task; one that waits becomes a
stream and a peer task from there. Each case here checks that the short path keeps what the general path
does: the answer and its errors, a call that waits, cancellation, a reused id, the in-flight bound, and a
call made while the server's limits are taken.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest

from mcpbind.server import Context, Server

from ..http_support import Session, call, messages_of, open_session, request, serve_in_process

REVISION = "2025-11-25"
TIMEOUT = 30.0


class World:
    """The server, and what its tools saw (read by the test's thread: a lock around it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: set[str] = set()
        self.cancelled: set[str] = set()
        self.gates: dict[str, asyncio.Future[str]] = {}
        server = Server("inline", "1.0.0", max_concurrency=2, max_queued=0)

        @server.tool()
        def echo(text: str) -> str:
            """Say `text` back."""
            return text

        @server.tool()
        async def hold(name: str) -> str:
            """Wait until `release(name)`, then say what it was released with."""
            gate = self.gates.setdefault(name, asyncio.get_running_loop().create_future())
            with self.lock:
                self.started.add(name)
            try:
                return await gate
            except asyncio.CancelledError:
                with self.lock:
                    self.cancelled.add(name)
                raise

        @server.tool()
        def release(name: str, value: str) -> str:
            """Let `hold(name)` answer `value`."""
            gate = self.gates.setdefault(name, asyncio.get_running_loop().create_future())
            gate.set_result(value)
            return "released"

        @server.tool()
        async def told(text: str, ctx: Context) -> str:
            """Report progress once (a Context: the general path), then say `text` back."""
            await ctx.progress(1, 1)
            return text

        self.app = server.http_app()

    def saw(self, what: set[str], name: str) -> bool:
        with self.lock:
            return name in what


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[World, str]]:
    w = World()
    with serve_in_process(w.app) as url:
        yield w, url


def synced(
    case: Callable[[tuple[World, str]], Coroutine[Any, Any, None]],
) -> Callable[[tuple[World, str]], None]:
    """The case run to its end in a loop of its own (bounded)."""

    @functools.wraps(case)
    def run(world: tuple[World, str]) -> None:
        asyncio.run(asyncio.wait_for(case(world), 4 * TIMEOUT))

    return run


async def _session(http: httpx.AsyncClient, url: str) -> Session:
    return await open_session(http, url, REVISION)


async def _until(condition: Any) -> None:
    """Until `condition()` holds (bounded: the machine may be loaded)."""
    for _ in range(int(TIMEOUT / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


@synced
async def test_answered_at_once_with_json(world: tuple[World, str]) -> None:
    _w, url = world
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = await _session(http, url)
        response = await http.post(url, json=call(2, "echo", {"text": "hi"}), headers=s.headers())
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "jsonrpc": "2.0",
            "id": 2,
            "result": {"content": [{"type": "text", "text": "hi"}]},
        }


@synced
async def test_errors_are_the_general_paths(world: tuple[World, str]) -> None:
    _w, url = world
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = await _session(http, url)
        # Params the method's type refuses: -32602 on the session's 200, as `on_request` answers it.
        bad = request(3, "tools/call", {"name": "echo", "arguments": "not an object"})
        response = await http.post(url, json=bad, headers=s.headers())
        assert response.status_code == 200
        error = response.json()["error"]
        assert error["code"] == -32602 and "Invalid params" in error["message"]
        # Arguments the tool refuses: a tool error in the result.
        response = await http.post(url, json=call(4, "echo", {"text": 5}), headers=s.headers())
        result = response.json()["result"]
        assert result["isError"] is True and "Invalid arguments for tool echo" in result["content"][0]["text"]
        # Params that are no object: refused before any handler, as before.
        response = await http.post(url, json=request(5, "tools/call", []), headers=s.headers())  # type: ignore[arg-type]
        assert response.status_code == 400 and response.json()["error"]["code"] == -32600


@synced
async def test_a_call_that_waits_is_answered_when_it_ends(world: tuple[World, str]) -> None:
    w, url = world
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = await _session(http, url)
        held = asyncio.ensure_future(http.post(url, json=call(6, "hold", {"name": "a"}), headers=s.headers()))
        await _until(lambda: w.saw(w.started, "a"))
        assert not held.done()
        # The session serves other requests meanwhile, inline.
        echoed = await http.post(url, json=call(7, "echo", {"text": "meanwhile"}), headers=s.headers())
        assert echoed.json()["result"]["content"][0]["text"] == "meanwhile"
        released = await http.post(
            url, json=call(8, "release", {"name": "a", "value": "done"}), headers=s.headers()
        )
        assert released.json()["result"]["content"][0]["text"] == "released"
        response = await asyncio.wait_for(held, TIMEOUT)
        assert response.status_code == 200
        (answer,) = messages_of(response)
        assert answer == {
            "jsonrpc": "2.0",
            "id": 6,
            "result": {"content": [{"type": "text", "text": "done"}]},
        }


@synced
async def test_a_call_read_the_general_way_that_waits_is_answered_when_it_ends(
    world: tuple[World, str],
) -> None:
    # A 2025-03-26 session sends no MCP-Protocol-Version: its calls are not read in one pass, and a
    # plain tool's runs its first step as `Connection.plain_call` gives it. One that waits goes on as
    # a stream (it failed with UnboundLocalError, a 500 and no answer, until this was tested).
    w, url = world
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = await open_session(http, url, "2025-03-26")
        assert "mcp-protocol-version" not in s.headers()
        held = asyncio.ensure_future(http.post(url, json=call(6, "hold", {"name": "c"}), headers=s.headers()))
        await _until(lambda: w.saw(w.started, "c"))
        assert not held.done()
        released = await http.post(
            url, json=call(7, "release", {"name": "c", "value": "late"}), headers=s.headers()
        )
        assert released.json()["result"]["content"][0]["text"] == "released"
        response = await asyncio.wait_for(held, TIMEOUT)
        assert response.status_code == 200
        assert messages_of(response) == [
            {"jsonrpc": "2.0", "id": 6, "result": {"content": [{"type": "text", "text": "late"}]}}
        ]


@synced
async def test_a_call_that_waits_is_cancelled(world: tuple[World, str]) -> None:
    w, url = world
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = await _session(http, url)
        held = asyncio.ensure_future(http.post(url, json=call(9, "hold", {"name": "b"}), headers=s.headers()))
        await _until(lambda: w.saw(w.started, "b"))
        # Its id is in use while it runs: a request reusing it is refused.
        reused = await http.post(url, json=call(9, "echo", {"text": "again"}), headers=s.headers())
        assert reused.status_code == 400 and "already in use" in reused.json()["error"]["message"]
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}}
        accepted = await http.post(url, json=cancel, headers=s.headers())
        assert accepted.status_code == 202
        response = await asyncio.wait_for(held, TIMEOUT)
        # Cancelled before it answered: a stream that ends with no event (no answer, as the spec says).
        assert response.status_code == 200 and messages_of(response) == []
        await _until(lambda: w.saw(w.cancelled, "b"))


@synced
async def test_the_in_flight_bound_holds(world: tuple[World, str]) -> None:
    w, url = world
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = await _session(http, url)
        held = [
            asyncio.ensure_future(
                http.post(url, json=call(10 + i, "hold", {"name": f"c{i}"}), headers=s.headers())
            )
            for i in range(2)
        ]
        await _until(lambda: w.saw(w.started, "c0") and w.saw(w.started, "c1"))
        # max_concurrency=2 handlers wait and no queue: one more is refused as busy, not run inline.
        busy = await http.post(url, json=call(12, "echo", {"text": "x"}), headers=s.headers())
        error = busy.json()["error"]
        assert error["code"] == -32000 and error["message"].startswith("Server busy"), error
        # Refused unrun, as every other refusal for load: 503 and Retry-After (it was 200).
        assert busy.status_code == 503 and busy.headers["retry-after"], busy.headers
        other = await _session(http, url)  # (the bound is the session's: another one is free)
        for i in range(2):
            message = call(20 + i, "release", {"name": f"c{i}", "value": "ok"})
            released = await http.post(url, json=message, headers=other.headers())
            assert released.json()["result"]["content"][0]["text"] == "released"
        for task in held:
            (answer,) = messages_of(await asyncio.wait_for(task, TIMEOUT))
            assert answer["result"]["content"][0]["text"] == "ok"
        # Slots free again: answered inline.
        response = await http.post(url, json=call(13, "echo", {"text": "y"}), headers=s.headers())
        assert response.json()["result"]["content"][0]["text"] == "y"


@synced
async def test_a_tool_with_a_context_takes_the_general_path(world: tuple[World, str]) -> None:
    _w, url = world
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        s = await _session(http, url)
        message = call(14, "told", {"text": "z"}, _meta={"progressToken": "p"})
        response = await http.post(url, json=message, headers=s.headers())
        assert response.headers["content-type"].startswith("text/event-stream")
        progress, answer = messages_of(response)
        assert progress["method"] == "notifications/progress"
        assert answer["result"]["content"][0]["text"] == "z"
