"""A session's GET stream over two workers and a real Redis: a list change reaches a GET stream opened
on one worker before the session was initialized on the other (the worker re-reads the session rather
than drop the change as sent to an uninitialized session), and a GET stream opened again on another
worker numbers its events on from the last one sent, even once every event of it has fallen out of the
event store (it numbered from 1 again: ids the client had already seen)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis

from ..http_support import BOTH, Session, call, initialize, messages_of, open_session, serve
from ..redis_support import RedisServer

SCALED = str(Path(__file__).resolve().parents[1] / "servers" / "scaled.py")
WAIT = 20.0
LIST_CHANGED = "notifications/tools/list_changed"


def fresh_db(redis_server: RedisServer, db: int) -> str:
    """The URL of database `db` of the session's redis-server, emptied: the tool moved here is not
    moved for other tests (registrations made while serving are kept in Redis)."""
    url = f"redis://127.0.0.1:{redis_server.port}/{db}"
    redis.Redis.from_url(url).flushdb()
    return url


@contextmanager
def workers(redis_url: str) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve(SCALED, "--redis", redis_url)) for _ in range(2)]


async def events(response: httpx.Response) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
    """The (id, message) of each event of an SSE response, as it comes (events without data skipped)."""
    event_id: str | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "":
            if data and any(data):
                yield event_id, json.loads("\n".join(data))
            event_id, data = None, []


async def list_changes(
    http: httpx.AsyncClient, url: str, session: Session, count: int, opened: asyncio.Event
) -> list[str]:
    """The event ids of the first `count` list changes on a GET stream of `session` opened at `url`."""
    ids: list[str] = []
    async with http.stream("GET", url, headers=session.headers(accept="text/event-stream")) as response:
        assert response.status_code == 200
        opened.set()
        async for event_id, message in events(response):
            if message.get("method") == LIST_CHANGED:
                assert event_id is not None
                ids.append(event_id)
                if len(ids) == count:
                    return ids
    raise AssertionError(f"the GET stream ended after {ids}")


async def move(http: httpx.AsyncClient, url: str, session: Session, rid: int, present: bool) -> None:
    moved = await http.post(url, json=call(rid, "move", {"present": present}), headers=session.headers())
    assert moved.status_code == 200 and messages_of(moved)[-1]["result"]["content"][0]["text"] == "moved"


def test_a_get_stream_opened_before_the_session_is_initialized_elsewhere_gets_list_changes(
    redis_server: RedisServer,
) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            opening = await http.post(one, json=initialize("2025-11-25"), headers={"accept": BOTH})
            assert opening.status_code == 200
            session = Session(one, opening.headers["mcp-session-id"], "2025-11-25")
            # Worker two reads the session for its GET stream while it is not initialized yet...
            opened = asyncio.Event()
            listener = asyncio.ensure_future(list_changes(http, two, session, 1, opened))
            await asyncio.wait_for(opened.wait(), WAIT)
            # ...then the client initializes it on worker one, and a tool changes the list there.
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert (await http.post(one, json=note, headers=session.headers())).status_code == 202
            await move(http, one, session, 2, False)
            (event_id,) = await asyncio.wait_for(listener, WAIT)
            assert event_id.startswith("get-")

    with workers(fresh_db(redis_server, 13)) as (one, two):
        asyncio.run(asyncio.wait_for(main(one, two), 90))


def test_a_get_stream_reopened_elsewhere_numbers_on_after_its_events_fell_out(
    redis_server: RedisServer,
) -> None:
    async def main(one: str, two: str) -> None:
        store = redis.Redis.from_url(url)
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            opened = asyncio.Event()
            listener = asyncio.ensure_future(list_changes(http, one, session, 2, opened))
            await asyncio.wait_for(opened.wait(), WAIT)
            await move(http, two, session, 2, False)
            await move(http, two, session, 3, True)
            first = await asyncio.wait_for(listener, WAIT)  # (its response ends: the client left)
            numbers = [int(event_id.rpartition("-")[2]) for event_id in first]
            assert numbers == sorted(numbers) and len(set(numbers)) == 2, first
            # Every event of the session falls out of the store (as its bounds drop the oldest first).
            events_key = f"mcpbind:events:{session.id}"
            await asyncio.to_thread(store.ltrim, events_key, 1, 0)
            assert await asyncio.to_thread(store.llen, events_key) == 0
            # The client opens a GET stream again, on the other worker: its numbers go on.
            opened = asyncio.Event()
            listener = asyncio.ensure_future(list_changes(http, two, session, 1, opened))
            await asyncio.wait_for(opened.wait(), WAIT)
            await move(http, one, session, 4, False)
            (again,) = await asyncio.wait_for(listener, WAIT)
            assert int(again.rpartition("-")[2]) > max(numbers), (first, again)
        store.close()

    url = fresh_db(redis_server, 14)
    with workers(url) as (one, two):
        asyncio.run(asyncio.wait_for(main(one, two), 90))
