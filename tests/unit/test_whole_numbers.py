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
