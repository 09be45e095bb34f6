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
