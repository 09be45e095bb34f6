"""`MemoryState`, the default `server.shared`: JSON values copied in and out, atomic integer steps, TTLs;
the same contract `RedisState` keeps (tests/e2e/test_redis_shared.py)."""

from __future__ import annotations

import asyncio
import math

import pytest

from mcpbind.client import Client
from mcpbind.server import Context, MemoryState, Server


def test_values_are_json_copies() -> None:
    async def main() -> None:
        state = MemoryState()
        assert await state.get("absent") is None and await state.get("absent", 7) == 7
        doc = {"a": [1, 2.5, "x"], "b": None}
        await state.set("doc", doc)
        doc["a"].append("changed after")  # what was set is not changed by changing the original
        got = await state.get("doc")
        assert got == {"a": [1, 2.5, "x"], "b": None}
        got["b"] = 1  # nor by changing what get returned
        assert await state.get("doc") == {"a": [1, 2.5, "x"], "b": None}
        with pytest.raises(TypeError):
            await state.set("bad", object())
        await state.delete("doc")
        await state.delete("doc")  # twice: nothing
        assert await state.get("doc") is None

    asyncio.run(main())


def test_incr_counts_from_zero_and_refuses_what_is_no_integer() -> None:
    async def main() -> None:
        state = MemoryState()
        assert await state.incr("n") == 1 and await state.incr("n", 5) == 6 and await state.incr("n", -6) == 0
        assert await state.get("n") == 0
        for value in (1.5, "3", True, None):
            await state.set("v", value)
            with pytest.raises(ValueError, match="not an integer"):
                await state.incr("v")
            assert await state.get("v") == value  # nothing lost

    asyncio.run(main())


def test_incr_refuses_what_redis_refuses() -> None:
    """The memory store counted past Redis's 64-bit range (where the Redis store fails), and added
    1.5 or True (which Redis refuses), so that a count worked on one worker and not on several."""

    async def main() -> None:
        state = MemoryState()
        await state.set("n", 2**63 - 2)
        assert await state.incr("n") == 2**63 - 1
        with pytest.raises(ValueError, match="64-bit"):
            await state.incr("n")
        await state.set("m", -(2**63) + 1)
        with pytest.raises(ValueError, match="64-bit"):
            await state.incr("m", -2)
        for amount in (1.5, True):
            with pytest.raises(ValueError, match="not an integer"):
                await state.incr("k", amount)  # type: ignore[arg-type]
        assert await state.get("n") == 2**63 - 1 and await state.get("m") == -(2**63) + 1
        assert await state.get("k") is None  # nothing written

    asyncio.run(main())


NON_FINITE = [
    math.nan,
    math.inf,
    -math.inf,
    {"a": [1, None, {"b": math.nan}]},
    [None, math.inf],
    (1.0, -math.inf),
]


@pytest.mark.parametrize("value", NON_FINITE, ids=repr)
def test_nan_and_infinity_are_refused_not_stored_as_null(value: object) -> None:
    """msgspec writes NaN and infinities as JSON null: `set` stored null in their place, silently."""

    async def main() -> None:
        state = MemoryState()
        await state.set("v", "before")
        with pytest.raises(ValueError, match="JSON cannot carry"):
            await state.set("v", value)
        assert await state.get("v") == "before"  # nothing lost
        await state.set("w", {"a": [None, 1.5, -0.0]})  # null and finite floats are values as ever
        assert await state.get("w") == {"a": [None, 1.5, -0.0]}

    asyncio.run(main())


def test_a_value_with_a_ttl_expires_and_a_step_keeps_its_ttl() -> None:
    async def main() -> None:
        state = MemoryState()
        await state.set("gone", "x", ttl=0)
        assert await state.get("gone", "expired") == "expired"
        await state.set("kept", 1, ttl=3600)
        assert await state.incr("kept") == 2
        await state.set("short", 1, ttl=0)
        assert await state.incr("short") == 1  # the expired value counts as none

    asyncio.run(main())


def test_handlers_reach_the_servers_state_through_their_context() -> None:
    server = Server("counting")

    @server.tool()
    async def hit(ctx: Context) -> int:
        return await ctx.shared.incr("hits")

    async def main() -> None:
        for mode in ("2025-11-25", "2026-07-28"):
            async with Client.memory(server, mode=mode) as client:
                await client.call_tool("hit", {})
        assert await server.shared.get("hits") == 2  # one state for every connection of the server

    asyncio.run(asyncio.wait_for(main(), 30))
