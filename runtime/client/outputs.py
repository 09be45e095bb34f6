"""Structured tool results checked against the tool's output schema, as clients SHOULD (tools: "Clients
SHOULD validate structured results against this schema").

`Client.list_tools` keeps the output schemas it is given (`OutputSchemas`); `Client.call_tool` then
checks each structured result of such a tool, unless the result is an error (`isError`). A schema is
compiled on its tool's first checked call, by the mapping `mcpbind stubs` writes typed stubs with
(`mcpbind.stubgen`: JSON Schema to msgspec Structs), so the two check alike, and nothing of it is
imported by a client that never calls such a tool.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import msgspec

from ..errors import McpError
from ..protocol import numbers
from ..protocol.jsonrpc import INVALID_PARAMS
from ..wire import to_builtins

if TYPE_CHECKING:
    from ..generated import latest as mcp

__all__ = ["InvalidToolResult", "OutputSchemas"]


class InvalidToolResult(McpError):
    """A tool's structured result that does not fit its output schema (or is missing); `result` is the
    whole answer."""

    def __init__(self, tool: str, detail: str, result: mcp.CallToolResult) -> None:
        super().__init__(
            f"{tool}: the result does not match the output schema: {detail}", code=INVALID_PARAMS
        )
        self.tool = tool
        self.result = result


_UNCHECKED: Final = object()
"""A schema the mapping could not compile: its tool's results go unchecked (and it is logged once)."""


def _compile(tool: str, schema: dict[str, Any]) -> Any:
    """The msgspec type of `schema`, or `_UNCHECKED`."""
    from ..stubgen.compiled import compiled  # (on use: most clients check no structured result)

    found = compiled(f"tool {tool!r}", schema)
    return _UNCHECKED if found is None else found


class OutputSchemas:
    """The output schemas of the tools a listing named, by tool name; each compiled on first use."""

    __slots__ = ("_schemas", "_types")

    def __init__(self, tools: Iterable[mcp.Tool]) -> None:
        self._schemas: dict[str, dict[str, Any]] = {}
        for tool in tools:
            schema = tool.output_schema
            if schema is not msgspec.UNSET and schema is not None:
                self._schemas[tool.name] = to_builtins(schema)
        self._types: dict[str, Any] = {}

    def __bool__(self) -> bool:
        return bool(self._schemas)

    def check(self, tool: str, result: mcp.CallToolResult) -> None:
        """Raise `InvalidToolResult` if `tool` has an output schema and `result` (not an error) has no
        structured content, or has one that does not fit the schema."""
        schema = self._schemas.get(tool)
        if schema is None or result.is_error is True:
            return
        structured = result.structured_content
        if structured is msgspec.UNSET:
            raise InvalidToolResult(
                tool, "the tool has an output schema but sent no structured content", result
            )
        compiled = self._types.get(tool)
        if compiled is None:
            compiled = self._types[tool] = _compile(tool, schema)
        if compiled is _UNCHECKED:
            return
        try:
            numbers.convert(to_builtins(structured), compiled)  # (`1.0` is an integer, as JSON Schema says)
        except msgspec.ValidationError as exc:
            raise InvalidToolResult(tool, str(exc), result) from None
