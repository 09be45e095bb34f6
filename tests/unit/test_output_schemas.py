"""Every tool output schema the server advertises is a self-contained JSON Schema that its own structured
results satisfy, as a client checks them (the TypeScript SDK compiles each one with ajv at tools/list and
refuses a tool whose schema has a `$ref` it cannot resolve): compiled here with `jsonschema`, every
reference resolved, every result validated."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypedDict

import jsonschema
import msgspec
import pydantic
import pytest
from jsonschema.validators import validator_for

from mcpbind import wire
from mcpbind.client import Client
from mcpbind.server import Server


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Pair(TypedDict):
    left: int
    right: int


class Item(msgspec.Struct):
    name: str
    colour: Colour
    pair: Pair


@dataclass
class Point:
    x: int
    label: Literal["a", "b"] = "a"


class Cat(msgspec.Struct, tag="cat"):
    lives: int


class Dog(msgspec.Struct, tag="dog"):
    good: bool


server = Server("schemas")


@server.tool()
def one_item() -> Item:
    return Item("i", Colour.RED, {"left": 1, "right": 2})


@server.tool()
def items() -> list[Item]:
    """A list of Structs: wrapped as {"result": [...]}, its definitions still reachable."""
    return [Item("a", Colour.BLUE, {"left": 0, "right": 0}), Item("b", Colour.RED, {"left": 1, "right": 1})]


@server.tool()
def points() -> list[Point]:
    return [Point(1), Point(2, "b")]


@server.tool()
def maybe_item(present: bool) -> Item | None:
    return one_item() if present else None


@server.tool()
def pet(cat: bool) -> Cat | Dog:
    return Cat(9) if cat else Dog(True)


@server.tool()
def by_name() -> dict[str, Point]:
    return {"p": Point(3)}


@server.tool()
def count() -> int:
    return 3


class Tree(msgspec.Struct):
    """Recursive: its members refer to the class at the root (`#/$defs/Tree` must stay defined)."""

    name: str
    children: list[Tree] = []
    link: Link | None = None


class Link(msgspec.Struct):
    """Refers back to the root class (mutual recursion)."""

    target: Tree | None = None


class Node(pydantic.BaseModel):
    """A recursive pydantic model: pydantic, too, puts a `$ref` at the root."""

    label: str
    next: Node | None = None


@server.tool()
def tree() -> Tree:
    return Tree("root", [Tree("a", [Tree("a1")]), Tree("b", link=Link(Tree("c")))])


@server.tool()
def trees() -> list[Tree]:
    return [Tree("x"), Tree("y", [Tree("z")])]


@server.tool()
def triple() -> tuple[int, str, bool]:
    """A tuple: `prefixItems` (2020-12), which a draft-07 validator does not know."""
    return (1, "two", True)


@server.tool()
def located(where: tuple[float, float]) -> dict[str, tuple[int, str]]:
    return {"at": (int(where[0]), "x")}


@server.tool()
def chain() -> Node:
    return Node(label="1", next=Node(label="2"))


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("one_item", {}),
    ("items", {}),
    ("points", {}),
    ("maybe_item", {"present": True}),
    ("pet", {"cat": True}),
    ("pet", {"cat": False}),
    ("by_name", {}),
    ("count", {}),
    ("tree", {}),
    ("trees", {}),
    ("chain", {}),
    ("triple", {}),
    ("located", {"where": [1.5, 2.5]}),
]


def tour(
    mode: str, inputs: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, dict[str, Any]], list[tuple[str, Any]]]:
    async def main() -> tuple[dict[str, dict[str, Any]], list[tuple[str, Any]]]:
        async with Client.memory(server, mode=mode) as client:
            listed = (await client.request("tools/list")).tools
            schemas = {t.name: wire.to_builtins(t)["outputSchema"] for t in listed}
            if inputs is not None:
                inputs.update({t.name: wire.to_builtins(t)["inputSchema"] for t in listed})
            results = []
            for name, args in CALLS:
                result = await client.call_tool(name, args)
                assert result.is_error is not True, result
                results.append((name, result.structured_content))
            return schemas, results

    return asyncio.run(asyncio.wait_for(main(), 30))


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_every_output_schema_compiles_and_holds_its_results(mode: str) -> None:
    schemas, results = tour(mode)
    for name, schema in schemas.items():
        assert schema["type"] == "object", name  # MCP: an output schema is an object at the root
        validator_for(schema).check_schema(schema)
    for name, structured in results:
        schema = schemas[name]
        # Raises on a `$ref` that does not resolve from the root (`#/$defs/...` must be there).
        validator_for(schema)(schema).validate(structured)
    assert schemas["items"]["properties"]["result"]["items"] == {"$ref": "#/$defs/Item"}
    assert set(schemas["items"]["$defs"]) == {"Item", "Colour", "Pair"}
    assert "$defs" not in schemas["items"]["properties"]["result"]
    # A recursive class is the object at the root, and its definition is there for its members' `$ref`.
    assert schemas["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    assert set(schemas["tree"]["$defs"]) == {"Tree", "Link"}
    assert "Item" not in schemas["one_item"]["$defs"]  # (a class nothing refers to is not repeated)
    assert schemas["chain"]["properties"]["label"]["type"] == "string"
    assert dict(results)["chain"] == {"label": "1", "next": {"label": "2", "next": None}}


def test_tuples_hold_under_draft_07_too() -> None:
    """A tuple's schema is bounded by `maxItems`, not closed with `items: false`: a draft-07 validator
    (the TypeScript 1.x SDK's ajv) ignores `prefixItems` and read `items: false` as "no items", so
    that it refused every tuple result; under 2020-12 the meaning is the same."""
    inputs: dict[str, dict[str, Any]] = {}
    schemas, results = tour("2025-11-25", inputs)
    for name, structured in results:
        jsonschema.Draft7Validator(schemas[name]).validate(structured)
    assert schemas["triple"]["properties"]["result"] == {
        "type": "array",
        "minItems": 3,
        "maxItems": 3,
        "prefixItems": [{"type": "integer"}, {"type": "string"}, {"type": "boolean"}],
    }
    jsonschema.Draft7Validator(inputs["located"]).validate({"where": [1.5, 2.5]})
    with pytest.raises(jsonschema.ValidationError):  # (the bound still holds, under both)
        jsonschema.Draft7Validator(schemas["triple"]).validate({"result": [1, "two", True, 4]})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schemas["triple"]).validate({"result": [1, 2, True]})


def test_a_result_that_breaks_the_schema_is_caught_by_the_check() -> None:
    """The check above can fail: a wrapped list whose member misses a required member is refused."""
    schemas, _ = tour("2025-11-25")
    schema = schemas["items"]
    with pytest.raises(jsonschema.ValidationError):
        validator_for(schema)(schema).validate({"result": [{"name": "x", "colour": "red"}]})
