"""What handlers keep (`ctx.shared`) and what is registered while serving, shared by workers on a real Redis.

Two server processes on two ports sharing one Redis database (what a load balancer sees), or
`run_http(workers=2)`: a count made on both is one count; a tool removed on one worker is gone from the
other's list by the time the other tells its client the list changed, and comes back when registered
again; a worker that starts later serves the lists as changed; a fresh `run_http(workers=N)` starts from
the registry its code makes."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from mcpbind.transports.http.redis import RedisConnection, RedisState, StoreUnavailable

from ..http_support import messages_of, modern, modern_headers, serve
from ..redis_support import RedisServer

SCALED = str(Path(__file__).resolve().parents[1] / "servers" / "scaled.py")
WAIT = 20.0


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 90))


def fresh_db(redis_server: RedisServer, db: int) -> str:
    """The URL of database `db` of the session's redis-server, emptied (each test its own database)."""
    url = f"redis://127.0.0.1:{redis_server.port}/{db}"
    redis.Redis.from_url(url).flushdb()
    return url


@contextmanager
def processes(url: str, count: int = 2) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve(SCALED, "--redis", url)) for _ in range(count)]


async def post(http: httpx.AsyncClient, url: str, rid: int, method: str, params: dict[str, Any]) -> Any:
    message = modern(rid, method, params)
    response = await http.post(url, json=message, headers=modern_headers(message))
    assert response.status_code == 200, response.text
    (answer,) = [m for m in messages_of(response) if m.get("id") == rid]
    return answer


async def tool(http: httpx.AsyncClient, url: str, name: str, **arguments: Any) -> Any:
    answer = await post(http, url, 7, "tools/call", {"name": name, "arguments": arguments})
    assert "result" in answer and not answer["result"].get("isError"), answer
    result = answer["result"]
    return (
        result["structuredContent"]["result"]
        if "structuredContent" in result
        else result["content"][0]["text"]
    )


async def tool_names(http: httpx.AsyncClient, url: str) -> set[str]:
    names: set[str] = set()
    params: dict[str, Any] = {}
    for _ in range(50):  # bounded: the full server lists in a few pages
        result = (await post(http, url, 8, "tools/list", params))["result"]
        names.update(t["name"] for t in result["tools"])
        if not result.get("nextCursor"):
            return names
        params = {"cursor": result["nextCursor"]}
    raise AssertionError("tools/list did not end")


async def notifications(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and data:
            message = json.loads("\n".join(data))
            data = []
            if "method" in message:
                yield message


async def first(stream: AsyncIterator[dict[str, Any]], method: str) -> dict[str, Any]:
    async for message in stream:
        if message["method"] == method:
            return message
    raise AssertionError(f"the stream ended before {method}")


def test_a_count_made_on_two_workers_is_one_count(redis_server: RedisServer) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            counts = await asyncio.gather(*(tool(http, url, "count", key="hits") for url in (one, two) * 5))
            assert sorted(counts) == list(range(1, 11))  # each step once, none lost
            await tool(http, one, "remember", key="note", value="written on one")
            assert await tool(http, two, "recall", key="note") == "written on one"
            assert await tool(http, two, "recall", key="other") == "nothing"

    with processes(fresh_db(redis_server, 5)) as (one, two):
        run(main(one, two))


def test_a_tool_removed_on_one_worker_is_gone_on_the_other_when_it_says_so(redis_server: RedisServer) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            assert "movable" in await tool_names(http, two)
            listen = modern(1, "subscriptions/listen", {"notifications": {"toolsListChanged": True}})
            async with http.stream("POST", two, json=listen, headers=modern_headers(listen)) as response:
                assert response.status_code == 200
                stream = notifications(response)
                await first(stream, "notifications/subscriptions/acknowledged")
                for present in (False, True):
                    await tool(http, one, "move", present=present)
                    await asyncio.wait_for(first(stream, "notifications/tools/list_changed"), WAIT)
                    # Told on worker two: worker two's list is changed already.
                    assert ("movable" in await tool_names(http, two)) is present
                    if present:
                        assert await tool(http, two, "movable") == "here"
                    else:
                        message = modern(9, "tools/call", {"name": "movable", "arguments": {}})
                        gone = await http.post(two, json=message, headers=modern_headers(message))
                        assert gone.json()["error"]["message"] == "Unknown tool: 'movable'", gone.text
            # A change of worker two reaches worker one the same way (one of the two has no listener).
            await tool(http, two, "move", present=False)
            for _ in range(200):  # bounded: the bus delivers within milliseconds on loopback
                if "movable" not in await tool_names(http, one):
                    break
                await asyncio.sleep(0.05)
            assert "movable" not in await tool_names(http, one)

    with processes(fresh_db(redis_server, 6)) as (one, two):
        run(main(one, two))


def test_a_worker_started_later_serves_the_lists_as_changed(redis_server: RedisServer) -> None:
    async def main(url: str, one: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            await tool(http, one, "move", present=False)
            with serve(SCALED, "--redis", url) as later:
                assert "movable" not in await tool_names(http, later)
                await tool(http, later, "move", present=True)  # and its own change reaches the first
                for _ in range(200):
                    if "movable" in await tool_names(http, one):
                        break
                    await asyncio.sleep(0.05)
                assert await tool(http, one, "movable") == "here"

    url = fresh_db(redis_server, 7)
    with processes(url, 1) as (one,):
        run(main(url, one))


def test_run_http_with_workers_starts_from_the_registry_of_its_code(redis_server: RedisServer) -> None:
    """Changes kept by an earlier run are forgotten by `run_http(workers=2)`, which starts every worker at
    once; a single process joins them (it may be one replica of several)."""
    url = fresh_db(redis_server, 8)
    redis.Redis.from_url(url).hset("mcpbind:registry", "tools:movable", "remove")

    async def listed(target: str) -> bool:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            return "movable" in await tool_names(http, target)

    with serve(SCALED, "--redis", url) as alone:
        assert asyncio.run(listed(alone)) is False
    with serve(SCALED, "--redis", url, "--workers", "2") as scaled:
        assert asyncio.run(listed(scaled)) is True
    assert redis.Redis.from_url(url).hgetall("mcpbind:registry") == {}


def test_redis_state_keeps_json_values_with_their_ttl(redis_server: RedisServer) -> None:
    async def main(url: str) -> None:
        connection = RedisConnection(url, prefix="shared-test:")
        state = RedisState(connection)
        try:
            await state.set("doc", {"a": [1, 2.5, "x"], "b": None})
            assert await state.get("doc") == {"a": [1, 2.5, "x"], "b": None}
            assert await state.get("absent", 42) == 42
            assert await state.incr("n", 5) == 5 and await state.incr("n") == 6
            assert await state.get("n") == 6  # what incr wrote reads back as a JSON integer
            with pytest.raises(ValueError, match="not an integer"):
                await state.incr("doc")
            await state.set("big", 2**63 - 1)  # what the memory store refuses, Redis refuses
            with pytest.raises(ValueError, match="64-bit range"):
                await state.incr("big")
            with pytest.raises(ValueError, match="not an integer"):
                await state.incr("n", 1.5)  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="not an integer"):
                await state.incr("n", True)
            assert await state.get("big") == 2**63 - 1 and await state.get("n") == 6
            assert await state.get("doc") == {"a": [1, 2.5, "x"], "b": None}  # and nothing was lost
            with pytest.raises(TypeError):
                await state.set("bad", object())
            for value in (math.nan, -math.inf, {"x": [None, math.inf]}):  # JSON null, silently, before
                with pytest.raises(ValueError, match="JSON cannot carry"):
                    await state.set("doc", value)
            assert await state.get("doc") == {"a": [1, 2.5, "x"], "b": None}
            await state.set("brief", "soon gone", ttl=0.2)
            ttl = redis.Redis.from_url(url).pttl("shared-test:shared:brief")
            assert 0 < ttl <= 200
            for _ in range(100):  # bounded: Redis expires it after 0.2 s
                if await state.get("brief") is None:
                    break
                await asyncio.sleep(0.05)
            assert await state.get("brief") is None
            await state.delete("doc")
            assert await state.get("doc") is None
        finally:
            await connection.close()

    run(main(fresh_db(redis_server, 9)))


def test_redis_state_fails_clearly_when_redis_is_away() -> None:
    async def main() -> None:
        from ..http_support import free_port

        connection = RedisConnection(f"redis://127.0.0.1:{free_port()}/0", timeout=2.0, connect_timeout=1.0)
        try:
            with pytest.raises(StoreUnavailable, match="unavailable"):
                await RedisState(connection).incr("n")
        finally:
            await connection.close()

    run(main())
