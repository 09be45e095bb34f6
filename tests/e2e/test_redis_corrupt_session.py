"""A session record in Redis that no worker can take up (bytes that are no JSON, JSON of the wrong
shape, a revision this server does not have) makes the session unknown: 404 on either worker (the one
that opened it and holds it, and one that never saw it), so the client opens a new session; the record
is deleted and logged once. Before, each request of that session failed with an error until the record
expired. Real redis-server, two real worker processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from ..http_support import call, messages_of, open_session, serve
from ..redis_support import RedisServer

SCALED = str(Path(__file__).resolve().parents[1] / "servers" / "scaled.py")
WAIT = 20.0

CORRUPT = [
    pytest.param(b"\xff\x00not json", id="not-json"),
    pytest.param(b'["a", "list"]', id="wrong-shape"),
    pytest.param(b'{"revision": 5, "client_capabilities": {}, "client_info": {}}', id="wrong-type"),
    pytest.param(
        json.dumps(
            {"revision": "1999-01-01", "client_capabilities": {}, "client_info": {}, "initialized": True}
        ).encode(),
        id="unknown-revision",
    ),
]


@contextmanager
def workers(redis_url: str) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve(SCALED, "--redis", redis_url)) for _ in range(2)]


@pytest.mark.parametrize("record", CORRUPT)
def test_a_corrupt_session_record_is_an_unknown_session_and_is_deleted(
    redis_server: RedisServer, record: bytes
) -> None:
    async def main(one: str, two: str) -> None:
        store = redis.Redis.from_url(redis_server.url)
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            echoed = await http.post(one, json=call(2, "echo", {"text": "a"}), headers=session.headers())
            assert echoed.status_code == 200  # worker one now holds the session in memory
            key = f"mcpbind:session:{session.id}"
            assert store.exists(key)
            store.set(key, record, ex=600)
            for url in (two, one):  # one never saw it; one holds it and reads the store again
                gone = await http.post(url, json=call(3, "echo", {"text": "b"}), headers=session.headers())
                assert gone.status_code == 404, gone.text
                store.set(key, record, ex=600)
            gone = await http.post(two, json=call(4, "echo", {"text": "b"}), headers=session.headers())
            assert gone.status_code == 404
            assert not store.exists(key)  # deleted: later requests find no session at all
            again = await http.post(one, json=call(5, "echo", {"text": "b"}), headers=session.headers())
            assert again.status_code == 404
            # The client opens a new session, served by both workers.
            fresh = await open_session(http, two, "2025-11-25")
            for rid, url in ((6, one), (7, two)):
                answer = await http.post(url, json=call(rid, "echo", {"text": "c"}), headers=fresh.headers())
                assert answer.status_code == 200
                assert messages_of(answer)[-1]["result"]["content"][0]["text"] == "c"
        store.close()

    with workers(redis_server.url) as (one, two):
        asyncio.run(asyncio.wait_for(main(one, two), 90))
