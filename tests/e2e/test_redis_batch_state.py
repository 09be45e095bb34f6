"""A JSON-RPC batch (2025-03-26) that changes the session's state (`logging/setLevel` in it) is saved to
the shared store, as the same message alone is, before its answer goes out: another worker serves the
session with the new state. It was never saved: worker two logged at the old level until a single
message saved the session again. Two real worker processes, a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import redis

from ..http_support import call, messages_of, open_session, request, serve
from ..redis_support import RedisServer

SCALED = str(Path(__file__).resolve().parents[1] / "servers" / "scaled.py")
WAIT = 20.0


@contextmanager
def workers(redis_url: str) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve(SCALED, "--redis", redis_url)) for _ in range(2)]


def test_a_batch_that_sets_the_log_level_is_saved_for_the_other_workers(redis_server: RedisServer) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/12"
    redis.Redis.from_url(url).flushdb()

    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-03-26")
            batch = [request(2, "logging/setLevel", {"level": "error"}), request(3, "ping")]
            answered = await http.post(one, json=batch, headers=session.headers())
            assert answered.status_code == 200, answered.text
            assert sorted(m["id"] for m in answered.json()) == [2, 3]
            shouted = await http.post(two, json=call(4, "shout"), headers=session.headers())
            logged = [
                m["params"]["level"]
                for m in messages_of(shouted)
                if m.get("method") == "notifications/message"
            ]
            assert logged == [], logged  # (below the level set: none sent)

    with workers(url) as (one, two):
        asyncio.run(asyncio.wait_for(main(one, two), 90))
