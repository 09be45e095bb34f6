"""The Redis stores against a real redis-server: what they keep, their bounds (bytes, count, time), and the
error they raise when Redis cannot be reached."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import pytest

from mcpbind.transports.http import SessionState, StoreUnavailable
from mcpbind.transports.http.redis import RedisConnection, RedisEventStore, RedisSessionStore

from ..http_support import free_port
from ..redis_support import RedisServer


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_sessions_are_kept_renewed_on_each_read_and_deleted(redis_server: RedisServer) -> None:
    async def main() -> None:
        connection = RedisConnection(redis_server.url, prefix=f"t{secrets.token_hex(4)}:")
        store = RedisSessionStore(connection, ttl=100)
        state = SessionState("2025-11-25", {"roots": {}}, {"name": "c"}, True, "info", ["memo://a"], "p")
        await store.save("sid", state)
        assert await store.load("sid") == state
        key = connection.key("session", "sid")
        await connection.client.expire(key, 5)
        await store.load("sid")  # a read renews the session's life to its full idle timeout
        assert 95 <= await connection.client.ttl(key) <= 100
        await store.delete("sid")
        assert await store.load("sid") is None
        await connection.close()

    run(main())


def test_events_are_bounded_by_bytes_and_count_and_expire(redis_server: RedisServer) -> None:
    async def main() -> None:
        connection = RedisConnection(redis_server.url, prefix=f"t{secrets.token_hex(4)}:")
        store = RedisEventStore(connection, "sid", max_bytes=10_000, max_events=5, ttl=50)
        for seq in range(1, 4):
            store.append("s1", seq, b"x" * 3_000)
        store.append("s2", 1, b"other stream")
        store.append("s1", 4, b"y" * 20_000)  # larger than the whole bound: never kept
        found = await store.after("s1-1")
        assert found == ("s1", [(2, b"x" * 3_000), (3, b"x" * 3_000)])
        # 3 more of 3,000 bytes: the oldest go first until both bounds hold (the byte bound here: 4
        # events are left, fewer than the 5 the count allows).
        for seq in range(5, 8):
            store.append("s1", seq, b"z" * 3_000)
        found = await store.after("s1-0")
        assert found is not None and [seq for seq, _ in found[1]] == [5, 6, 7]
        assert await connection.client.llen(store.key) == 4
        for seq in range(1, 10):
            store.append("s3", seq, b"small")
        found = await store.after("s3-0")
        assert found is not None and [seq for seq, _ in found[1]] == [5, 6, 7, 8, 9]  # the count bound
        assert 45 <= await connection.client.ttl(store.key) <= 50
        assert await store.after("not an event id") is None
        await connection.close()

    run(main())


def test_an_unreachable_redis_raises_store_unavailable_at_once() -> None:
    async def main() -> None:
        connection = RedisConnection(f"redis://user:secret@127.0.0.1:{free_port()}/0")
        started = time.monotonic()
        with pytest.raises(
            StoreUnavailable, match=r"Redis at redis://\*\*\*@127\.0\.0\.1:\d+/0 is unavailable"
        ):
            await connection.check()
        with pytest.raises(StoreUnavailable):
            await RedisSessionStore(connection).load("sid")
        assert time.monotonic() - started < 20
        await connection.close()

    run(main())
