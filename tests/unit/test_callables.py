"""Callables other than plain functions as tools, prompts and resources: a `functools.partial` (its
bound arguments are not parameters), a callable object, a bound method, a staticmethod and a
classmethod; a `classmethod` object, which cannot be called before its class exists, refused by name."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.client import Client
from mcpbind.server import Context, Server


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def add(a: int, b: int, ctx: Context) -> int:
    """Adds two numbers."""
    assert isinstance(ctx, Context)
    return a + b


async def scaled(x: float, factor: float) -> float:
    return x * factor


class Greeter:
    """Greets someone."""

    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    def __call__(self, who: str) -> str:
        return f"{self.greeting}, {who}"

    def shout(self, who: str, times: int = 1) -> str:
        """Shouts a greeting."""
        return f"{self.greeting.upper()} {who}" * times

    @staticmethod
    def double(n: int) -> int:
        return 2 * n

    @classmethod
    def named(cls, n: int) -> str:
        return f"{cls.__name__}{n}"


class AsyncCounter:
    async def __call__(self, n: int) -> int:
        await asyncio.sleep(0)
        return n + 1


def callable_server() -> Server:
    server = Server("callables")
    server.tool(name="add_one")(functools.partial(add, 1))
    server.tool(name="add_by_keyword")(functools.partial(add, b=10))
    server.tool(name="triple")(functools.partial(scaled, factor=3.0))
    server.tool()(Greeter("Hello"))
    server.tool(name="count")(AsyncCounter())
    server.tool()(Greeter("Hey").shout)
    server.tool()(Greeter.double)
    server.tool()(Greeter.named)
    server.prompt(name="greet")(Greeter("Hi"))
    server.resource("greeting://{who}")(functools.partial(Greeter("Yo").shout, times=2))
    return server


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_callables_of_every_kind_are_tools_prompts_and_resources(mode: str) -> None:
    async def main() -> None:
        async with Client.memory(callable_server(), mode=mode) as client:
            tools = {t.name: wire.to_builtins(t) for t in await client.list_tools()}
            assert set(tools) == {
                "add_one", "add_by_keyword", "triple", "Greeter", "count", "shout", "double", "named"
            }  # fmt: skip
            # The partial's bound arguments are not parameters; its function's docstring describes it.
            assert list(tools["add_one"]["inputSchema"]["properties"]) == ["b"]
            assert list(tools["add_by_keyword"]["inputSchema"]["properties"]) == ["a"]
            assert tools["add_one"]["description"] == "Adds two numbers."
            assert tools["Greeter"]["description"] == "Greets someone."
            assert tools["shout"]["description"] == "Shouts a greeting."

            async def call(name: str, arguments: dict[str, Any]) -> Any:
                result = await client.call_tool(name, arguments)
                assert not result.is_error, result
                return wire.to_builtins(result.structured_content)

            assert await call("add_one", {"b": 2}) == {"result": 3}
            assert await call("add_by_keyword", {"a": 2}) == {"result": 12}
            assert await call("triple", {"x": 2}) == {"result": 6.0}
            assert await call("count", {"n": 4}) == {"result": 5}
            assert await call("double", {"n": 4}) == {"result": 8}
            said = await client.call_tool("named", {"n": 4})
            assert getattr(said.content[0], "text", None) == "Greeter4"
            said = await client.call_tool("Greeter", {"who": "Ann"})
            assert getattr(said.content[0], "text", None) == "Hello, Ann"
            said = await client.call_tool("shout", {"who": "Ann", "times": 2})
            assert getattr(said.content[0], "text", None) == "HEY AnnHEY Ann"
            # A bound argument is not one the client may pass.
            refused = await client.call_tool("add_one", {"b": "x"})
            assert refused.is_error
            prompt = await client.get_prompt("greet", {"who": "Bo"})
            assert getattr(prompt.messages[0].content, "text", None) == "Hi, Bo"
            read = await client.read_resource("greeting://Cy")
            assert getattr(read.contents[0], "text", None) == "YO CyYO Cy"

    run(main())


def test_a_staticmethod_object_registered_in_its_class_body_is_its_function() -> None:
    server = Server("in-body")

    class Tools:
        @server.tool()
        @staticmethod
        def halve(n: int) -> float:
            return n / 2

    assert isinstance(Tools.__dict__["halve"], staticmethod)

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            result = await client.call_tool("halve", {"n": 3})
            assert wire.to_builtins(result.structured_content) == {"result": 1.5}

    run(main())


def test_a_classmethod_object_and_what_is_not_callable_are_refused_by_name() -> None:
    server = Server("refused")
    with pytest.raises(TypeError, match=r"classmethod object \(.*make\) is not callable"):

        class Tools:
            @server.tool()
            @classmethod
            def make(cls, n: int) -> int:
                return n

    with pytest.raises(TypeError, match="is not callable"):
        server.tool(name="nothing")(42)  # type: ignore[type-var]  # (what a typed caller cannot pass)


def test_what_has_no_name_or_no_parameters_to_read_is_refused_by_name() -> None:
    """A lambda has no name to be called by (a resource's is its URI); a builtin that declares no
    signature has no parameters to read: each a TypeError naming it (was `<lambda>`, and inspect's
    ValueError)."""
    server = Server("refused")
    with pytest.raises(TypeError, match="register it with name="):
        server.tool()(lambda x: x)
    with pytest.raises(TypeError, match="register it with name="):
        server.prompt()(lambda: "p")
    server.resource("notes://today")(lambda: "today")

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            (resource,) = await client.list_resources()
            assert resource.name == "notes://today"

    run(main())
    with pytest.raises(TypeError, match=r"biggest: the parameters of <built-in function max> cannot be read"):
        server.tool(name="biggest")(max)


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Doubled:
    n: str  # (what the body says of the attribute, not what the call takes)

    def __init__(self, n: int) -> None:
        self.n = str(n * 2)


class Pair(msgspec.Struct):
    left: int
    right: str = "r"


def test_a_class_registered_as_a_tool_takes_its_init_parameters_and_gives_an_instance() -> None:
    """A class called as a tool: its parameters are its `__init__`'s, their hints too (the body's
    were read: `Doubled` advertised `n` a string where its `__init__` takes an int), a Struct's made
    from its fields; the result is the instance, structured by the class's schema. A class whose
    instances cannot be encoded is refused at registration, named."""
    server = Server("classes")
    server.tool()(Point)
    server.tool()(Pair)
    with pytest.raises(TypeError, match=r"Doubled: return value: unsupported type hint .*Doubled"):
        server.tool()(Doubled)

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            point, pair = await client.list_tools()
            assert wire.to_builtins(point.input_schema)["properties"]["x"] == {"type": "integer"}
            assert wire.to_builtins(point.output_schema)["required"] == ["x"]
            assert set(wire.to_builtins(pair.input_schema)["properties"]) == {"left", "right"}
            made = await client.call_tool("Point", {"x": 1})
            assert made.structured_content == {"x": 1, "y": 0}, made
            made = await client.call_tool("Pair", {"left": 2})
            assert made.structured_content == {"left": 2, "right": "r"}, made
            refused = await client.call_tool("Point", {"x": "one"})
            assert refused.is_error, refused

    run(main())
