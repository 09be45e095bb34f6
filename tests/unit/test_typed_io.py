"""Types in and out (TypedDict, dataclass, msgspec Struct, pydantic), typed elicitation forms, state kept
across the rounds of a multi round-trip request, and sampling with tools, through the in-memory client."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pydantic
import pytest

from mcpbind import wire
from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.server import Context, Server
from mcpbind.server.types import form_schema

MODES = ["2025-06-18", "2025-11-25", "2026-07-28"]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


class Point(TypedDict):
    x: int
    y: int


@dataclasses.dataclass
class Box:
    label: str
    size: float = 1.0


class Tag(msgspec.Struct):
    name: str
    weight: int = 0


class Person(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


class Booking(pydantic.BaseModel):
    seats: int
    window: bool = False


@dataclasses.dataclass
class Confirm:
    ok: bool
    note: str | None = None
    colour: Literal["red", "green"] = "red"


def typed_server() -> Server:
    server = Server("typed")

    @server.tool()
    def move(p: Point, b: Box, t: Tag, who: Person) -> Person:
        return Person(name=f"{who.name}@{p['x']},{p['y']}:{b.label}:{t.name}", age=who.age + 1)

    @server.tool()
    def boxed(label: str) -> Box:
        return Box(label)

    return server


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_arguments_and_results_of_every_kind(mode: str) -> None:
    server = typed_server()

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            tools = {t.name: wire.to_builtins(t) for t in await client.list_tools()}
            props = tools["move"]["inputSchema"]["properties"]
            assert props["who"]["properties"]["age"]["minimum"] == 0  # pydantic's own schema
            assert set(props) == {"p", "b", "t", "who"}
            assert tools["move"]["outputSchema"]["properties"]["name"]["type"] == "string"
            args = {
                "p": {"x": 1, "y": 2},
                "b": {"label": "L"},
                "t": {"name": "T"},
                "who": {"name": "ann", "age": 3},
            }
            result = await client.call_tool("move", args)
            assert result.structured_content == {"name": "ann@1,2:L:T", "age": 4}
            bad = await client.call_tool("move", {**args, "who": {"name": "ann", "age": -1}})
            assert bad.is_error is True and "Invalid arguments for tool move" in bad.content[0].text
            boxed = await client.call_tool("boxed", {"label": "x"})
            assert boxed.structured_content == {"label": "x", "size": 1.0}

    run(main())


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_a_result_its_annotation_forbids_is_an_error_not_structured_content(mode: str) -> None:
    """Python does not hold a function to its return annotation: the server does, so no structuredContent
    that contradicts the advertised outputSchema reaches the wire."""
    server = Server("liar")
    said: dict[str, Any] = {"count": "three", "box": {"label": 5}, "person": {"name": "x", "age": -1}}

    @server.tool()
    def count() -> int:
        return said["count"]  # type: ignore[no-any-return]

    @server.tool()
    def box() -> Box:
        return said["box"]  # type: ignore[no-any-return]

    @server.tool()
    def person() -> Person:
        return said["person"]  # type: ignore[no-any-return]

    @server.tool()
    def honest(n: int) -> int:
        return n * 2

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            for name in ("count", "box", "person"):
                result = await client.call_tool(name, {})
                assert result.is_error is True, name
                assert result.structured_content is msgspec.UNSET, name
                assert result.content[0].text == f"Tool {name} returned an invalid result"
            ok = await client.call_tool("honest", {"n": 4})
            assert ok.is_error is not True and ok.structured_content == {"result": 8}
            said["count"] = 3  # the same tool, now keeping its word
            fixed = await client.call_tool("count", {})
            assert fixed.structured_content == {"result": 3}

    run(main())


def test_form_schemas_are_flat_and_refuse_nesting() -> None:
    assert form_schema(Confirm) == {
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "note": {"type": "string"},
            "colour": {"enum": ["green", "red"], "default": "red", "type": "string"},
        },
        "required": ["ok"],
    }
    pyd = form_schema(Booking)
    assert pyd["properties"]["seats"]["type"] == "integer" and pyd["required"] == ["seats"]

    class Nested(TypedDict):
        where: Point

    with pytest.raises(TypeError, match="member 'where' is not a flat primitive"):
        form_schema(Nested)


@pytest.mark.parametrize("mode", MODES)
def test_elicit_with_a_type_returns_that_type(mode: str) -> None:
    server = Server("elicit")
    asked: list[dict[str, Any]] = []

    @server.tool()
    async def book(ctx: Context) -> str:
        first = await ctx.elicit("Confirm?", Confirm, key="confirm")
        second = await ctx.elicit("How many seats?", Booking, key="booking")
        assert first.content is not None and second.content is not None
        assert isinstance(first.content, Confirm) and isinstance(second.content, Booking)
        return f"{first.content.ok} {first.content.colour} {second.content.seats}"

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params["requestedSchema"])
        if params["message"] == "Confirm?":
            return {"action": "accept", "content": {"ok": True, "colour": "green"}}
        return {"action": "accept", "content": {"seats": 2}}

    async def main() -> None:
        async with Client.memory(server, mode=mode, elicitation=elicitation) as client:
            result = await client.call_tool("book", {})
            assert result.content[0].text == "True green 2"

    run(main())
    assert asked[0]["properties"]["ok"] == {"type": "boolean"}


def test_an_answer_that_does_not_fill_the_form_is_an_error() -> None:
    server = Server("elicit-bad")

    @server.tool()
    async def book(ctx: Context) -> str:
        outcome = await ctx.elicit("How many?", Booking)
        return str(outcome.content)

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"seats": "many"}}

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25", elicitation=elicitation) as client:
            with pytest.raises(McpError, match="does not fill the form"):
                await client.call_tool("book", {})
            assert (await client.list_tools())[0].name == "book"  # serving goes on

    run(main())


@pytest.mark.parametrize("mode", MODES)
def test_state_carried_across_rounds_spares_repeated_side_effects(mode: str) -> None:
    server = Server("rounds")
    effects = {"carried": 0, "naive": 0}
    runs = {"carried": 0, "naive": 0}

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"ok": True}}

    @server.tool()
    async def carried(ctx: Context) -> str:
        runs["carried"] += 1
        if "order" not in ctx.carried:
            effects["carried"] += 1  # the side effect: done once, whatever the rounds
            ctx.carried["order"] = f"order-{effects['carried']}"
        first = await ctx.elicit("Sure?", {"type": "object", "properties": {"ok": {"type": "boolean"}}})
        second = await ctx.elicit("Really?", {"type": "object", "properties": {"ok": {"type": "boolean"}}})
        return f"{ctx.carried['order']} {first.action} {second.action}"

    @server.tool()
    async def naive(ctx: Context) -> str:
        runs["naive"] += 1
        effects["naive"] += 1
        await ctx.elicit("Sure?", {"type": "object", "properties": {"ok": {"type": "boolean"}}})
        return "done"

    async def main() -> None:
        async with Client.memory(server, mode=mode, elicitation=elicitation) as client:
            result = await client.call_tool("carried", {})
            assert result.content[0].text == "order-1 accept accept"
            await client.call_tool("naive", {})

    run(main())
    assert effects["carried"] == 1
    if mode == "2026-07-28":
        assert runs == {"carried": 3, "naive": 2} and effects["naive"] == 2  # re-run per round
    else:
        assert runs == {"carried": 1, "naive": 1} and effects["naive"] == 1


def test_carried_state_cannot_be_forged_by_the_client() -> None:
    server = Server("forge")

    @server.tool()
    async def tool(ctx: Context) -> str:
        seen = dict(ctx.carried)
        await ctx.elicit("Sure?", {"type": "object", "properties": {}}, key="sure")
        return repr(seen)

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {}}

    async def main() -> None:
        async with Client.memory(server, mode="2026-07-28", elicitation=elicitation) as client:
            accepted = {"action": "accept", "content": {}}
            forged = {"sure": accepted, "mcpbind/carried": {"action": "accept", "content": {"admin": True}}}
            result = await client.request("tools/call", {"name": "tool", "inputResponses": forged})
            assert result.content[0].text == "{}"

    run(main())


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_sampling_with_tools(mode: str) -> None:
    server = Server("sampler")
    got: list[dict[str, Any]] = []

    @server.tool()
    async def ask(ctx: Context) -> str:
        tools = [{"name": "weather", "inputSchema": {"type": "object"}}]
        result = await ctx.sample(
            [{"role": "user", "content": {"type": "text", "text": "hi"}}], 50, tools=tools
        )
        return str(result.stop_reason)

    async def sampling(params: dict[str, Any]) -> dict[str, Any]:
        got.append(params)
        return {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "c1", "name": "weather", "input": {}}],
            "model": "m",
            "stopReason": "toolUse",
        }

    async def main() -> None:
        async with Client.memory(server, mode=mode, sampling=sampling, sampling_tools=True) as client:
            assert client.capabilities()["sampling"] == {"tools": {}}
            assert (await client.call_tool("ask", {})).content[0].text == "toolUse"
        async with Client.memory(server, mode=mode, sampling=sampling) as client:
            # A client that does not declare sampling.tools is never sent tools.
            with pytest.raises(McpError, match=r"sampling\.tools"):
                result = await client.call_tool("ask", {})
                assert result.is_error is not True

    run(main())
    assert got and got[0]["tools"][0]["name"] == "weather"


@dataclasses.dataclass
class Order:
    qty: Annotated[int, pydantic.Field(ge=1, le=10, description="how many")]
    sku: Annotated[str, pydantic.Field(pattern="^[A-Z]+$")] = "A"


class Address(TypedDict):
    zip: Annotated[str, pydantic.Field(min_length=5, max_length=5)]


class Count(msgspec.Struct):
    n: Annotated[int, pydantic.Field(gt=0)]


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_parameters_of_classes_whose_members_carry_pydantic_constraints(mode: str) -> None:
    """A dataclass, TypedDict or Struct parameter whose members are annotated with pydantic's `Field`:
    msgspec read them and skipped the constraints (a quantity of 0 reached the tool, and the
    inputSchema said nothing of them). They hold, and the schema carries them."""
    server = Server("members")

    @server.tool()
    def order(o: Order, a: Address, c: Count) -> str:
        return f"{o.qty} {o.sku} {a['zip']} {c.n}"

    @server.tool()
    def reorder(o: Order) -> Order:
        return o

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            tool, again = await client.list_tools()
            properties = wire.to_builtins(tool.input_schema)["properties"]
            # (A result of such a class: its output schema carries the constraints too.)
            output = wire.to_builtins(again.output_schema)["properties"]
            assert output["qty"]["minimum"] == 1 and output["sku"]["pattern"] == "^[A-Z]+$", output
            assert properties["o"]["properties"]["qty"] == {
                "type": "integer",
                "description": "how many",
                "minimum": 1,
                "maximum": 10,
            }
            assert properties["o"]["properties"]["sku"]["pattern"] == "^[A-Z]+$"
            assert properties["a"]["properties"]["zip"]["minLength"] == 5
            assert properties["c"]["properties"]["n"]["exclusiveMinimum"] == 0
            good = {"o": {"qty": 2}, "a": {"zip": "12345"}, "c": {"n": 1}}
            result = await client.call_tool("order", good)
            assert getattr(result.content[0], "text", None) == "2 A 12345 1"
            for member, bad in [("qty", {"o": {"qty": 0}}), ("sku", {"o": {"qty": 1, "sku": "a"}}),
                                ("zip", {"a": {"zip": "1"}}), ("n", {"c": {"n": 0}})]:  # fmt: skip
                result = await client.call_tool("order", {**good, **bad})
                said = getattr(result.content[0], "text", "")
                assert result.is_error and f"`{member}`" in said, said

    run(main())


class Hue(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Trip:
    origin: str
    legs: int = 1


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_prompt_arguments_of_structs_dataclasses_and_lists_are_read_from_json_text(mode: str) -> None:
    """Prompt arguments are text: one typed as a dataclass, a Struct or a list was refused for every
    value (read as an object, or an array, it arrives as text). Each is read from the JSON text it is
    given, as a pydantic model's is, and its description says it expects JSON text."""
    server = Server("prompts")

    @server.prompt()
    def plan(
        trip: Trip,
        ids: list[int],
        tag: Tag | None = None,
        word: str = "-",
        n: int = 0,
        hue: Hue | None = None,
    ) -> str:
        """Plan a trip."""
        return f"{trip.origin}/{trip.legs} {ids} {tag.name if tag else None} {word} {n}"

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            (prompt,) = await client.list_prompts()
            described = {a.name: a.description or None for a in prompt.arguments or ()}
            # (An enum, a `$ref` to a definition of text, is no JSON: it is read from the text itself.)
            assert described == {
                "trip": "JSON text",
                "ids": "JSON text",
                "tag": "JSON text",
                "word": None,
                "n": None,
                "hue": None,
            }

            async def said(arguments: dict[str, str]) -> Any:
                got = await client.get_prompt("plan", arguments)
                return getattr(got.messages[0].content, "text", None)

            arguments = {
                "trip": '{"origin": "LHR", "legs": 2}',
                "ids": "[1, 2]",
                "tag": '{"name": "t"}',
                "n": "3",
                "hue": "red",
            }
            assert await said(arguments) == "LHR/2 [1, 2] t - 3"
            assert await said({"trip": '{"origin": "CDG"}', "ids": "[]"}) == "CDG/1 [] None - 0"
            for bad in [{"trip": '{"origin": 1}'}, {"ids": "1"}, {"trip": "LHR"}, {"tag": "[]"}]:
                with pytest.raises(McpError) as refused:
                    await client.get_prompt("plan", {**arguments, **bad})
                assert refused.value.code == -32602, refused.value

    run(main())


@dataclasses.dataclass
class Shipment:
    count: int
    to: Address


def test_a_nested_class_whose_members_carry_pydantic_constraints_is_held_to_them() -> None:
    """A member that is itself such a class (`Shipment.to`, an `Address` whose `zip` has a `Field`):
    its constraints were skipped, in the checks and in the schema, one level down."""
    server = Server("nested")

    @server.tool()
    def ship(s: Shipment) -> str:
        return f"{s.count} to {s.to['zip']}"

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            (tool,) = await client.list_tools()
            schema = wire.to_builtins(tool.input_schema)
            assert schema["properties"]["s"]["properties"]["to"]["properties"]["zip"]["minLength"] == 5
            assert "$defs" not in schema, schema  # (no definition left that nothing names)
            good = await client.call_tool("ship", {"s": {"count": 1, "to": {"zip": "12345"}}})
            assert getattr(good.content[0], "text", None) == "1 to 12345"
            bad = await client.call_tool("ship", {"s": {"count": 1, "to": {"zip": "1"}}})
            said = getattr(bad.content[0], "text", "")
            assert bad.is_error and "`to`: `zip`" in said, said

    run(main())


@dataclasses.dataclass
class Node:
    value: Annotated[int, pydantic.Field(ge=1)]
    next: Node | None = None


@dataclasses.dataclass
class Basket:
    lines: list[Count]


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_classes_whose_members_carry_pydantic_constraints_hold_inside_containers(mode: str) -> None:
    """Such a class held by a container or a union (`list[Order]`, `Order | None`, `dict[str,
    Count]`, a member `list[Count]`, a `Node` whose `next` is a `Node | None`) was read by msgspec
    alone: the constraints were skipped in the checks and in the schema."""
    server = Server("held")

    @server.tool()
    def take(
        orders: list[Order],
        one: Order | None = None,
        by: dict[str, Count] | None = None,
        basket: Basket | None = None,
        node: Node | None = None,
    ) -> str:
        depth, at = 0, node
        while at is not None:
            depth, at = depth + 1, at.next
        total = sum(o.qty for o in orders) + (one.qty if one else 0) + sum(c.n for c in (by or {}).values())
        return f"{total} {len(basket.lines) if basket else 0} {depth}"

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            (tool,) = await client.list_tools()
            schema = wire.to_builtins(tool.input_schema)
            assert schema["$defs"]["Order"]["properties"]["qty"]["minimum"] == 1, schema
            assert schema["$defs"]["Count"]["properties"]["n"]["exclusiveMinimum"] == 0, schema
            assert schema["$defs"]["Node"]["properties"]["value"]["minimum"] == 1, schema
            good = {
                "orders": [{"qty": 2}],
                "one": {"qty": 3},
                "by": {"a": {"n": 4}},
                "basket": {"lines": [{"n": 1}]},
                "node": {"value": 1, "next": {"value": 2}},
            }
            result = await client.call_tool("take", good)
            assert getattr(result.content[0], "text", None) == "9 1 2", result
            empty = await client.call_tool("take", {"orders": []})
            assert getattr(empty.content[0], "text", None) == "0 0 0"
            for name, value, said in [
                ("orders", [{"qty": 2}, {"qty": 0}], "`qty`"),
                ("one", {"qty": 11}, "`qty`"),
                ("by", {"a": {"n": 0}}, "`n`"),
                ("basket", {"lines": [{"n": 0}]}, "`lines`"),
                ("node", {"value": 1, "next": {"value": 0}}, "`next`: `value`"),
            ]:
                bad = await client.call_tool("take", {"orders": [], name: value})
                text = getattr(bad.content[0], "text", "")
                assert bad.is_error and said in text, (name, text)

    run(main())
