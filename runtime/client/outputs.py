"""Structured tool results checked against the tool's output schema, as clients SHOULD (tools: "Clients
SHOULD validate structured results against this schema").

`Client.list_tools` keeps the output schemas it is given (`OutputSchemas`); `Client.call_tool` then
checks each structured result of such a tool, unless the result is an error (`isError`). A schema is
compiled on its tool's first checked call, by the mapping `mcpbind stubs` writes typed stubs with
(`mcpbind.stubgen`: JSON Schema to msgspec Structs), so the two check alike, and nothing of it is
imported by a client that never calls such a tool.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import sys
import types
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

log = logging.getLogger("mcpbind.client")


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

_COMPILED: dict[bytes, Any] = {}
"""Each schema compiled in this process, by its canonical JSON's digest: the same schema (the same tool
on another client, or listed again) is compiled once. At most `_KEPT` (the oldest go first: a server
that changes its schemas on every listing costs a compilation per call, not memory)."""
_KEPT: Final = 256
_MODULES = itertools.count(1)


def _compile(tool: str, schema: dict[str, Any]) -> Any:
    """The msgspec type of `schema`, or `_UNCHECKED`."""
    digest = hashlib.sha256(msgspec.json.encode(schema, order="sorted")).digest()
    compiled = _COMPILED.get(digest)
    if compiled is not None:
        return compiled
    from ..stubgen.render import render_schema  # (on use: most clients check no structured result)

    try:
        source, _widened = render_schema(schema, "Output")
        # A module of its own, in `sys.modules` for a moment: msgspec resolves the Structs' annotations
        # (strings, forward references between them included) through their module's globals, once;
        # after that the types stand alone, and the module goes.
        name = f"{__name__}.schema{next(_MODULES)}"
        module = types.ModuleType(name)
        sys.modules[name] = module
        try:
            exec(compile(source, f"<output schema of {tool}>", "exec"), module.__dict__)
            compiled = module.ROOT
            msgspec.json.Decoder(compiled)  # resolves every annotation now: a failure is this schema's
        finally:
            del sys.modules[name]
    except Exception as exc:  # a schema the mapping cannot read: the results are not checked
        log.warning("tool %r: its output schema cannot be compiled, results go unchecked (%s)", tool, exc)
        compiled = _UNCHECKED
    if len(_COMPILED) >= _KEPT:
        del _COMPILED[next(iter(_COMPILED))]
    _COMPILED[digest] = compiled
    return compiled


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
