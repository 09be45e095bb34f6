"""`RedisPipe` (a request's own Redis command, pipelined on one connection) against a real redis-server:
every caller gets its own reply whatever the interleaving, errors and cancelled callers leave the order
intact, a Redis that stops answering fails the waiting calls within the timeout and the next call
reconnects, and a URL's password and database are used."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import time
from typing import Any

import pytest

from mcpbind.transports.http import StoreUnavailable
from mcpbind.transports.http.redis import RedisConnection
from mcpbind.transports.http.redis.pipe import RedisPipe

from ..redis_support import RedisServer


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


class ClientCount:
    """Counts the clients of a redis-server other than itself, on one connection held open from the
    first reading to the last: a probe connecting anew each time could be counted while its previous
    connection was still closing on the server."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.data = b""

    def __call__(self) -> int:
        self.sock.sendall(b"CLIENT LIST\r\n")
        while b"\r\n" not in self.data:
            self.data += self.sock.recv(65536)
        header, _, self.data = self.data.partition(b"\r\n")
        assert header.startswith(b"$"), header
        size = int(header[1:]) + 2  # the listing and its CRLF
        while len(self.data) < size:
            self.data += self.sock.recv(65536)
        listing, self.data = self.data[: size - 2], self.data[size:]
        return len(listing.decode().splitlines()) - 1  # not this one

    def close(self) -> None:
        self.sock.close()


def test_concurrent_commands_on_one_connection_each_get_their_own_reply() -> None:
    # A redis-server of its own: the shared one's count moves with the other tests' connections.
    store = RedisServer()
    store.start()
    count = ClientCount(store.port)
    try:

        async def main() -> None:
            prefix = f"t{secrets.token_hex(4)}:"
            connection = RedisConnection(store.url, prefix=prefix)
            assert count() == 0
            await asyncio.gather(
                *(connection.command("SET", f"{prefix}{i}", f"v{i}", "EX", 60) for i in range(300))
            )
            values = await asyncio.gather(
                *(connection.command("GETEX", f"{prefix}{i}", "EX", 60) for i in range(300))
            )
            assert values == [f"v{i}".encode() for i in range(300)]
            assert await connection.command("GETEX", f"{prefix}missing", "EX", 60) is None
            assert count() == 1  # 600 commands, one connection
            await connection.close()

        run(main())
    finally:
        count.close()
        store.close()


def test_an_error_reply_fails_its_caller_alone_and_the_order_is_kept(redis_server: RedisServer) -> None:
    async def main() -> None:
        prefix = f"t{secrets.token_hex(4)}:"
        connection = RedisConnection(redis_server.url, prefix=prefix)
        await connection.command("RPUSH", f"{prefix}list", "x")
        await connection.command("SET", f"{prefix}a", "A")
        results = await asyncio.gather(
            connection.command("GETEX", f"{prefix}a", "EX", 60),
            connection.command("GETEX", f"{prefix}list", "EX", 60),  # WRONGTYPE
            connection.command("GETEX", f"{prefix}a", "EX", 60),
            return_exceptions=True,
        )
        assert results[0] == b"A" and results[2] == b"A"
        assert isinstance(results[1], StoreUnavailable) and "WRONGTYPE" in str(results[1])
        await connection.close()

    run(main())


def test_cancelled_callers_do_not_shift_the_replies_of_the_others(redis_server: RedisServer) -> None:
    async def main() -> None:
        prefix = f"t{secrets.token_hex(4)}:"
        connection = RedisConnection(redis_server.url, prefix=prefix)
        for i in range(100):
            await connection.command("SET", f"{prefix}{i}", f"v{i}")
        calls = [
            asyncio.ensure_future(connection.command("GETEX", f"{prefix}{i}", "EX", 60)) for i in range(100)
        ]
        await asyncio.sleep(0)  # every command written
        for call in calls[::2]:
            call.cancel()
        done = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(d, asyncio.CancelledError) for d in done[::2])
        assert done[1::2] == [f"v{i}".encode() for i in range(1, 100, 2)]
        assert await connection.command("GETEX", f"{prefix}7", "EX", 60) == b"v7"
        await connection.close()

    run(main())


def test_a_redis_that_stops_answering_fails_the_calls_in_time_and_the_next_one_reconnects() -> None:
    store = RedisServer()
    store.start()
    assert store.process is not None
    try:

        async def main() -> None:
            connection = RedisConnection(store.url, timeout=1.0)
            await connection.command("SET", "k", "v")
            os.kill(store.process.pid, signal.SIGSTOP)  # type: ignore[union-attr]
            try:
                started = time.monotonic()
                results = await asyncio.gather(
                    *(connection.command("GETEX", "k", "EX", 60) for _ in range(5)), return_exceptions=True
                )
                assert all(isinstance(r, StoreUnavailable) and "did not answer" in str(r) for r in results)
                assert time.monotonic() - started < 10
            finally:
                os.kill(store.process.pid, signal.SIGCONT)  # type: ignore[union-attr]
            assert await connection.command("GETEX", "k", "EX", 60) == b"v"
            await connection.close()

        run(main())
    finally:
        store.close()


def test_a_lost_redis_fails_the_calls_at_once_and_service_resumes_when_it_is_back() -> None:
    store = RedisServer()
    store.start()
    try:

        async def main() -> None:
            connection = RedisConnection(store.url)
            await connection.command("SET", "k", "v")
            store.stop()
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="is unavailable"):
                await connection.command("GETEX", "k", "EX", 60)
            assert time.monotonic() - started < 5
            store.start()
            await connection.command("SET", "k", "again")
            assert await connection.command("GETEX", "k", "EX", 60) == b"again"
            await connection.close()

        run(main())
    finally:
        store.close()


def test_a_connection_redis_dropped_unnoticed_is_replaced_and_the_command_sent_again() -> None:
    """Redis restarts while the worker's loop does not run: the old connection is dead but not yet known to
    be. The next command meets it, and is sent again on a new connection instead of failing the request."""
    store = RedisServer()
    store.start()
    try:

        async def main() -> None:
            connection = RedisConnection(store.url)
            await connection.command("SET", "k", "v")
            store.stop()  # (blocking: the loop does not see the connection close)
            store.start()
            await connection.command("SET", "k", "again")
            assert await connection.command("GETEX", "k", "EX", 60) == b"again"
            count = ClientCount(store.port)
            try:
                assert count() == 1  # the new connection alone: the dead one is gone
            finally:
                count.close()
            await connection.close()

        run(main())
    finally:
        store.close()


def test_the_urls_password_and_database_are_used() -> None:
    store = RedisServer()
    store.start()
    try:
        with socket.create_connection(("127.0.0.1", store.port), timeout=5) as sock:
            sock.sendall(b"CONFIG SET requirepass s3cr%t\r\n")
            assert sock.recv(64).startswith(b"+OK")

        async def main() -> None:
            good = RedisConnection(f"redis://:s3cr%25t@127.0.0.1:{store.port}/3")
            await good.command("SET", "k", "in db 3")
            assert await good.client.get("k") == b"in db 3"  # redis-py, same URL: database 3
            other = RedisConnection(f"redis://:s3cr%25t@127.0.0.1:{store.port}/0")
            assert await other.command("GETEX", "k", "EX", 60) is None
            wrong = RedisConnection(f"redis://:nope@127.0.0.1:{store.port}/0")
            with pytest.raises(StoreUnavailable, match=r"WRONGPASS|invalid"):
                await wrong.command("GETEX", "k", "EX", 60)
            for connection in (good, other, wrong):
                await connection.close()

        run(main())
    finally:
        store.close()


def test_only_plain_redis_urls_are_pipelined() -> None:
    pipe = RedisPipe.for_url("redis://user:p%40ss@example.internal:6380/2", timeout=5, connect_timeout=2)
    assert pipe is not None
    assert (pipe.host, pipe.port, pipe.db, pipe.username, pipe.password) == (
        "example.internal",
        6380,
        2,
        "user",
        "p@ss",
    )
    defaults = RedisPipe.for_url("redis://127.0.0.1", timeout=5, connect_timeout=2)
    assert defaults is not None and (defaults.port, defaults.db, defaults.password) == (6379, 0, None)
    for url in ("rediss://h:6379/0", "unix:///tmp/redis.sock", "redis://h:6379/0?protocol=3", "redis:///0"):
        assert RedisPipe.for_url(url, timeout=5, connect_timeout=2) is None, url


def test_a_url_with_options_is_served_by_redis_py_with_the_same_replies(redis_server: RedisServer) -> None:
    async def main() -> None:
        prefix = f"t{secrets.token_hex(4)}:"
        connection = RedisConnection(redis_server.url + "?health_check_interval=10", prefix=prefix)
        await connection.command("SET", f"{prefix}a", "A")
        assert await connection.command("GETEX", f"{prefix}a", "EX", 60) == b"A"
        assert await connection.command("GETEX", f"{prefix}b", "EX", 60) is None
        await connection.command("RPUSH", f"{prefix}list", "x")
        with pytest.raises(StoreUnavailable, match="WRONGTYPE"):
            await connection.command("GETEX", f"{prefix}list", "EX", 60)
        await connection.close()

    run(main())
