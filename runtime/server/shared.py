"""`SharedState`: small values a server's handlers keep between requests (a counter, a resource's current
text), in the process by default, and in the store every worker shares when the server runs on several
(`run_http(workers=N, redis=URL)` puts a Redis one in `server.shared`).

    @server.tool()
    async def hit(ctx: Context) -> int:
        return await ctx.shared.incr("hits")        # counted across every worker under Redis

Values are anything JSON can carry; each is stored encoded, so what `get` returns is a copy in either
store (changing it changes nothing until it is `set` again), and the two behave alike.
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

import msgspec

__all__ = ["MemoryState", "SharedState", "encode_value"]

_encode = msgspec.json.encode
_decode = msgspec.json.decode
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def encode_value(key: str, value: Any) -> bytes:
    """`value` as the JSON both stores keep; NaN or an infinity anywhere in it is a ValueError (JSON has
    neither: msgspec writes them as null, so that a value would come back changed)."""
    data = _encode(value)
    # A non-finite float was written as null (rare: only then look closer). `find`, not `in`: on 3.11
    # `in` first tries the bytes as an int (a TypeError made and cleared, ~1k instructions).
    if data.find(b"null") >= 0:
        _refuse_non_finite(key, msgspec.to_builtins(value))
    return data


def _refuse_non_finite(key: str, value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if type(item) is float and not math.isfinite(item):
            raise ValueError(f"the value for {key!r} holds {item!r}, which JSON cannot carry")
        if type(item) is dict:
            pending.extend(item.values())
        elif type(item) is list or type(item) is tuple:
            pending.extend(item)


class SharedState(Protocol):
    """Keys to JSON values, shared by everything that serves the server (its workers, with Redis)."""

    async def get(self, key: str, default: Any = None) -> Any:
        """The value at `key` (a copy), or `default` when there is none (or it expired)."""
        ...

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Store `value` (JSON-encodable, else TypeError; NaN or infinity in it, ValueError) at `key`,
        for `ttl` seconds when given."""
        ...

    async def incr(self, key: str, amount: int = 1) -> int:
        """Add `amount` to the integer at `key` (0 when there is none) at once, and return the sum: the
        way to count across workers (a `get` then `set` could lose another worker's step). A value or
        an amount that is not an integer, or a sum outside the 64-bit range, is a ValueError."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key` (nothing when it is not there)."""
        ...


class MemoryState:
    """`SharedState` in this process's memory: the default, for one process."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[bytes, float | None]] = {}

    def _live(self, key: str) -> bytes | None:
        found = self._values.get(key)
        if found is None:
            return None
        data, expires = found
        if expires is not None and time.monotonic() >= expires:
            del self._values[key]
            return None
        return data

    async def get(self, key: str, default: Any = None) -> Any:
        data = self._live(key)
        return default if data is None else _decode(data)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        self._values[key] = (encode_value(key, value), None if ttl is None else time.monotonic() + ttl)

    async def incr(self, key: str, amount: int = 1) -> int:
        data = self._live(key)
        current = 0 if data is None else _decode(data)
        if type(current) is not int:
            raise ValueError(f"the value at {key!r} is not an integer")
        if type(amount) is not int:  # (Redis refuses 1.5 and True alike: the two stores agree)
            raise ValueError(f"the amount added to {key!r} is not an integer: {amount!r}")
        total: int = current + amount
        if not _INT64_MIN <= total <= _INT64_MAX:  # as Redis, whose counters are 64-bit
            raise ValueError(f"the value at {key!r} would leave the 64-bit range")
        expires = self._values[key][1] if data is not None else None  # as Redis: a step keeps the TTL
        self._values[key] = (_encode(total), expires)
        return total

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)
