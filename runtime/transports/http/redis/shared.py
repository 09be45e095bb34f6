"""`RedisState`: the server's `SharedState` (`server.shared`, `ctx.shared`) in Redis, so that every worker
reads what any worker wrote. One command a call; a key `shared:<key>` under the connection's prefix."""

from __future__ import annotations

from typing import Any

import msgspec
from redis.exceptions import ResponseError

from ....server.shared import encode_value
from .connection import RedisConnection

__all__ = ["RedisState"]

_decode = msgspec.json.decode


class RedisState:
    """`SharedState` over a `RedisConnection` (`StoreUnavailable` when Redis cannot be reached)."""

    def __init__(self, connection: RedisConnection) -> None:
        self.connection = connection

    async def get(self, key: str, default: Any = None) -> Any:
        name = self.connection.key("shared", key)
        data = await self.connection.run(lambda client: client.get(name))
        return default if data is None else _decode(data)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        name, data = self.connection.key("shared", key), encode_value(key, value)
        # Milliseconds, at least one: a TTL below a millisecond still expires rather than living forever.
        px = None if ttl is None else max(1, int(ttl * 1000))
        await self.connection.run(lambda client: client.set(name, data, px=px))

    async def incr(self, key: str, amount: int = 1) -> int:
        if type(amount) is not int:  # (redis-py refuses a bool before Redis sees it: not an outage)
            raise ValueError(f"the amount added to {key!r} is not an integer: {amount!r}")
        name = self.connection.key("shared", key)

        async def step(client: Any) -> int | None:
            try:
                # INCRBY reads and writes the JSON form of an integer ("42") as it is: get sees the sum.
                return int(await client.incrby(name, amount))
            except ResponseError:  # not an integer: the caller's mistake, not Redis being away
                return None

        total = await self.connection.run(step)
        if total is None:
            raise ValueError(
                f"the value at {key!r} is not an integer (or the sum would leave the 64-bit range)"
            )
        return total

    async def delete(self, key: str) -> None:
        name = self.connection.key("shared", key)
        await self.connection.run(lambda client: client.delete(name))
