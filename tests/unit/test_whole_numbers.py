"""JSON Schema's `integer` matches `1.0` (any number with a zero fractional part): the server reads such
a number into an `int` tool argument or form member, and `protocol.numbers` is what both sides use to
try a failed check once more with whole floats read as ints."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpbind.client import Client
from mcpbind.protocol import numbers
from mcpbind.server import Context, Server


class Form(msgspec.Struct):
    n: int


def test_whole_numbers_reads_whole_floats_as_ints_only() -> None:
    value = {"a": [1.0, 1.5, True, "2.0", {"b": -3.0}], "c": 2**70 * 1.0, "d": 4}
    assert numbers.whole_numbers(value) == {"a": [1, 1.5, True, "2.0", {"b": -3}], "c": 2.0**70, "d": 4}
    assert type(numbers.whole_numbers(value)["a"][0]) is int and type(numbers.whole_numbers(1e300)) is float
    untouched = {"a": [1, 1.5, "x"], "b": None}
    assert numbers.whole_numbers(untouched) is untouched  # nothing to read again: the same object
    deep: Any = 1.0
    for _ in range(100_000):
        deep = [deep]
    assert numbers.whole_numbers(deep) is deep  # too deep to walk: left as it is, no RecursionError


def test_convert_tries_once_more_with_whole_numbers() -> None:
    assert numbers.convert({"n": 2.0}, Form) == Form(2)
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int`, got `float` - at `\$.n`"):
        numbers.convert({"n": 2.5}, Form)
    with pytest.raises(msgspec.ValidationError, match="got `str`"):
        numbers.convert({"n": "2"}, Form)


def test_the_server_reads_a_whole_float_as_an_integer() -> None:
    server = Server("numbers", "1")

    @server.tool()
    def double(n: int) -> str:
        return f"{type(n).__name__} {n * 2}"

    @server.tool()
    async def ask(ctx: Context) -> str:
        outcome = await ctx.elicit("how many?", Form)
        assert outcome.content is not None
        return f"{type(outcome.content.n).__name__} {outcome.content.n}"

    async def elicitation(params: Any) -> dict[str, Any]:
        return {"action": "accept", "content": {"n": 5.0}}

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25", elicitation=elicitation) as client:
            assert (await client.call_tool("double", {"n": 21.0})).content[0].text == "int 42"
            refused = await client.call_tool("double", {"n": 2.5})
            assert refused.is_error is True and "Expected `int`" in refused.content[0].text
            assert (await client.call_tool("ask", {})).content[0].text == "int 5"

    asyncio.run(asyncio.wait_for(main(), 60))


class Nested(msgspec.Struct, rename="camel"):
    count: int
    free: dict[str, Any]
    counts: list[int] = []
    by_name: dict[str, int] = {}
    pairs: list[tuple[int, float]] = []
    inner: Form | None = None


def test_convert_reads_as_ints_only_the_floats_where_an_int_is_expected() -> None:
    value = {
        "count": 3.0,
        "free": {"ratio": 2.0, "list": [1.0, 2.5], "deep": {"n": 4.0}},
        "counts": [1.0] * 5_000 + [2],  # one retry for the whole list
        "byName": {"a": 1.0, "b": 2},
        "pairs": [[1.0, 2.0], [3, 4.0]],
        "inner": {"n": 6.0},
    }
    got = numbers.convert(value, Nested)
    assert type(got.count) is int and got.count == 3
    assert got.free == {"ratio": 2.0, "list": [1.0, 2.5], "deep": {"n": 4.0}}
    free_numbers = [got.free["ratio"], *got.free["list"], got.free["deep"]["n"]]
    assert all(type(n) is float for n in free_numbers)  # any value may go there: floats stay floats
    assert all(type(n) is int for n in got.counts) and len(got.counts) == 5_001
    assert got.by_name == {"a": 1, "b": 2} and type(got.by_name["a"]) is int
    assert got.pairs == [(1, 2.0), (3, 4.0)] and type(got.pairs[0][0]) is int
    assert type(got.pairs[0][1]) is float
    assert got.inner == Form(6)
    assert value["count"] == 3.0 and type(value["count"]) is float  # the caller's value is not changed


def test_convert_still_refuses_what_is_no_integer_and_says_what_is_wrong() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int`, got `float` - at `\$.count`"):
        numbers.convert({"count": 1.5, "free": {}}, Nested)
    with pytest.raises(msgspec.ValidationError, match=r"got `float` - at `\$.counts\[1\]`"):
        numbers.convert({"count": 1.0, "free": {}, "counts": [1, 2.5]}, Nested)
    with pytest.raises(msgspec.ValidationError, match=r"Expected `object`, got `str` - at `\$.free`"):
        # (once `count` is read as the integer it is, what is still wrong is said)
        numbers.convert({"count": 1.0, "free": "no object"}, Nested)


def test_a_tools_free_form_argument_keeps_its_floats() -> None:
    server = Server("numbers", "1")

    @server.tool()
    def describe(n: int, options: dict[str, Any]) -> str:
        return f"{type(n).__name__} {n} " + ",".join(f"{k}={type(v).__name__}" for k, v in options.items())

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            result = await client.call_tool("describe", {"n": 2.0, "options": {"scale": 1.0, "steps": 3}})
            assert result.content[0].text == "int 2 scale=float,steps=int"

    asyncio.run(asyncio.wait_for(main(), 60))
