"""`OutputSchemas` (what `Client.call_tool` checks structured results with), without a server: member
names that are no Python names, references between definitions, an error result left unchecked, and
nothing left behind in `sys.modules` by compiling a schema."""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.client.outputs import InvalidToolResult, OutputSchemas
from mcpbind.generated import latest as mcp

SCHEMA = {
    "type": "object",
    "properties": {
        "class": {"type": "integer"},
        "a b": {"type": "string"},
        "node": {"$ref": "#/$defs/Node"},
    },
    "required": ["class"],
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {"value": {"type": "number"}, "next": {"$ref": "#/$defs/Node"}},
            "required": ["value"],
        }
    },
}


def tools() -> list[mcp.Tool]:
    listed = [{"name": "t", "inputSchema": {"type": "object"}, "outputSchema": SCHEMA}]
    return [wire.convert(tool, mcp.Tool) for tool in listed]


def result(structured: Any = msgspec.UNSET, is_error: bool = False) -> mcp.CallToolResult:
    message: dict[str, Any] = {"content": [], "resultType": "complete"}
    if structured is not msgspec.UNSET:
        message["structuredContent"] = structured
    if is_error:
        message["isError"] = True
    return wire.convert(message, mcp.CallToolResult)


def test_results_are_checked_against_the_schema_by_wire_name_and_through_references() -> None:
    before = set(sys.modules)
    checks = OutputSchemas(tools())
    checks.check("t", result({"class": 1, "a b": "x", "node": {"value": 1.5, "next": {"value": 2}}}))
    with pytest.raises(InvalidToolResult, match=r"\$\.node\.next\.value"):
        checks.check("t", result({"class": 1, "node": {"value": 1, "next": {"value": "two"}}}))
    with pytest.raises(InvalidToolResult, match="class"):
        checks.check("t", result({"a b": "x"}))
    with pytest.raises(InvalidToolResult, match="no structured content"):
        checks.check("t", result())
    checks.check("t", result(is_error=True))  # an error result: not checked
    checks.check("other", result({"anything": 1}))  # a tool the listing did not name
    assert set(sys.modules) - before <= {
        "mcpbind.stubgen",
        "mcpbind.stubgen.compiled",
        "mcpbind.stubgen.render",
        "mcpbind.stubgen.schema",
        "mcpbind.stubgen.forms",
    }


def tuple_schema(**bounds: Any) -> dict[str, Any]:
    prefix = [{"type": "integer"}, {"type": "string"}]
    return {
        "type": "object",
        "properties": {"t": {"type": "array", "prefixItems": prefix, **bounds}},
        "required": ["t"],
    }


@pytest.mark.parametrize(
    "bounds",
    [
        {"minItems": 2, "maxItems": 2, "items": False},  # msgspec's schema of a tuple
        {"minItems": 2, "maxItems": 2},  # as mcpbind serves it, and pydantic's
    ],
)
def test_a_tuple_with_its_length_bounds_is_checked(bounds: dict[str, Any], caplog: Any) -> None:
    """Its length bounds beside its members compiled to a length constraint on a fixed tuple, which
    msgspec refuses: the whole schema was dropped (a warning) and every result went unchecked."""
    listed = [{"name": "t", "inputSchema": {"type": "object"}, "outputSchema": tuple_schema(**bounds)}]
    checks = OutputSchemas([wire.convert(tool, mcp.Tool) for tool in listed])
    checks.check("t", result({"t": [1, "a"]}))
    with pytest.raises(InvalidToolResult, match=r"\$\.t\[1\]"):
        checks.check("t", result({"t": [1, 2]}))
    with pytest.raises(InvalidToolResult, match="length"):
        checks.check("t", result({"t": [1, "a", 3]}))
    assert "cannot be compiled" not in caplog.text


def test_a_tuple_whose_last_members_may_be_missing_takes_the_shorter_form() -> None:
    """`minItems` below its length (a NamedTuple's trailing default): no fixed tuple."""
    listed = [
        {"name": "t", "inputSchema": {"type": "object"}, "outputSchema": tuple_schema(minItems=1, maxItems=2)}
    ]
    checks = OutputSchemas([wire.convert(tool, mcp.Tool) for tool in listed])
    checks.check("t", result({"t": [1]}))
    checks.check("t", result({"t": [1, "a"]}))
    with pytest.raises(InvalidToolResult, match="length"):
        checks.check("t", result({"t": [1, "a", 3]}))


def test_a_draft_07_tuple_is_checked() -> None:
    """`items` as a list with `additionalItems: false` (draft-07, as zod describes a tuple for the
    TypeScript SDKs) was read as no schema at all: a list of anything."""
    schema = tuple_schema(minItems=2, maxItems=2)
    schema["properties"]["t"] = {
        "type": "array",
        "items": schema["properties"]["t"]["prefixItems"],
        "additionalItems": False,
        "minItems": 2,
        "maxItems": 2,
    }
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    listed = [{"name": "t", "inputSchema": {"type": "object"}, "outputSchema": schema}]
    checks = OutputSchemas([wire.convert(tool, mcp.Tool) for tool in listed])
    checks.check("t", result({"t": [1, "a"]}))
    with pytest.raises(InvalidToolResult, match=r"\$\.t\[1\]"):
        checks.check("t", result({"t": [1, 2]}))


def test_members_named_like_the_types_of_annotations_are_checked(caplog: Any) -> None:
    """Members `list`, `int`, `tuple`, `str`, `Any`: named as they are, they shadowed the types the
    Struct's annotations use (msgspec resolves them in the class body), the schema failed to compile
    and results went unchecked."""
    schema = {
        "type": "object",
        "properties": {
            "int": {"type": "integer", "minimum": 0},
            "list": {"type": "array", "items": {"type": "string"}},
            "tuple": {"type": "array", "prefixItems": [{"type": "integer"}], "items": False},
            "str": {"type": "string"},
            "Any": {},
        },
        "required": ["int", "list"],
    }
    listed = [{"name": "t", "inputSchema": {"type": "object"}, "outputSchema": schema}]
    checks = OutputSchemas([wire.convert(tool, mcp.Tool) for tool in listed])
    checks.check("t", result({"int": 1, "list": ["a"], "tuple": [2], "str": "s", "Any": None}))
    with pytest.raises(InvalidToolResult, match=r"\$\.list\[0\]"):
        checks.check("t", result({"int": 1, "list": [3]}))
    with pytest.raises(InvalidToolResult, match="int"):
        checks.check("t", result({"list": []}))
    assert "cannot be compiled" not in caplog.text
