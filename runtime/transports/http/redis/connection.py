"""The one Redis connection every Redis store of a worker shares: its URL, its key prefix, its timeouts, and
the error a request gets when Redis cannot be reached (`StoreUnavailable`, answered 503 by the app)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..sessions import StoreUnavailable
from .pipe import RedisPipe

__all__ = ["RedisConnection", "StoreUnavailable"]

T = TypeVar("T")


class RedisConnection:
    """A lazily opened redis-py client (a pool) and the prefix of every key mcpbind writes.

    Stores take one of these rather than a URL, so that a worker opens one pool whatever stores it
    uses (sessions, events, the bus, tasks). Every call goes through `run`, which turns redis-py's
    errors into `StoreUnavailable`: the request fails at once with a clear error, and the next one
    reconnects (redis-py opens connections again as needed), so service resumes when Redis is back.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "mcpbind:",
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        max_connections: int = 64,
    ) -> None:
        self.url = url
        self.prefix = prefix
        # Bounded: a Redis that stops answering fails a request after `timeout`, never hangs it; more
        # requests at once than `max_connections` wait for a connection (at most `timeout` too).
        self.options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": connect_timeout,
            "max_connections": max_connections,
            "timeout": timeout,
            "health_check_interval": 30,
        }
        self._client: aioredis.Redis | None = None
        self._pipe = RedisPipe.for_url(url, timeout=timeout, connect_timeout=connect_timeout)

    @property
    def client(self) -> aioredis.Redis:
        """The client (opened on first use, in the event loop that uses it)."""
        client = self._client
        if client is None:
            # A pool opened before a fork (workers) must not be used after it: each worker opens its own.
            pool = aioredis.BlockingConnectionPool.from_url(self.url, **self.options)
            client = self._client = aioredis.Redis(connection_pool=pool)
        return client

    def key(self, *parts: str) -> str:
        """A key under this connection's prefix: `key("session", sid)` -> "mcpbind:session:<sid>"."""
        return self.prefix + ":".join(parts)

    async def run(self, call: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """`call(client)`, with Redis's failures as `StoreUnavailable`."""
        try:
            return await call(self.client)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis at {self.safe_url} is unavailable: {exc}") from exc

    async def command(self, *args: bytes | str | int) -> Any:
        """One command on the hot path (a request's own, one that may be sent twice: a read or a renewal):
        pipelined on one connection (`RedisPipe`, which sends it again once on a dead connection), or
        through redis-py when the URL needs it (TLS, a Unix socket, options). `StoreUnavailable` when
        Redis fails."""
        pipe = self._pipe
        try:
            if pipe is not None:
                return await pipe.call(*args)
            return await self.client.execute_command(*args)  # type: ignore[no-untyped-call]
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis at {self.safe_url} is unavailable: {exc}") from exc

    async def check(self) -> None:
        """PING Redis: `StoreUnavailable` (with the URL and the cause) when it cannot be reached."""
        await self.run(lambda client: client.ping())

    @property
    def safe_url(self) -> str:
        """The URL without its password (for errors and logs)."""
        scheme, sep, rest = self.url.partition("://")
        if "@" in rest:
            rest = "***@" + rest.rpartition("@")[2]
        return scheme + sep + rest

    async def close(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
