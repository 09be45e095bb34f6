"""What the modules `mcpbind stubs` writes stand on: typed tool calls, checked on the way out and back.

A generated class subclasses `ToolStubs`; each of its methods builds the tool's input Struct and calls
`_call`, which validates the arguments against the Struct's schema before anything is sent, calls the
tool, and validates the structured result against the output Struct. Every failure names the tool and
the JSON path (`$.days`), and nothing reaches the server when the arguments are wrong.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from ..errors import McpError
from ..protocol import numbers
from ..protocol.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS
from ..wire import to_builtins
from .api import Client
from .calls import Progress
from .outputs import InvalidToolResult

if TYPE_CHECKING:
    from ..generated import latest as mcp

__all__ = ["InvalidToolArguments", "InvalidToolResult", "ToolError", "ToolStubs", "expand", "given"]

T = TypeVar("T")

_EXPRESSION = re.compile(r"\{([+#./;?&]?)([^}]+)\}")
# RFC 6570 operators: what each expansion starts with, joins with, and whether it names its variables.
_OPERATORS = {
    "": ("", ",", False),
    "+": ("", ",", False),
    "#": ("#", ",", False),
    ".": (".", ".", False),
    "/": ("/", "/", False),
    ";": (";", ";", True),
    "?": ("?", "&", True),
    "&": ("&", "&", True),
}


def given(arguments: Mapping[str, str | None]) -> dict[str, str]:
    """The prompt arguments that have a value (an optional one left out is not sent)."""
    return {k: v for k, v in arguments.items() if v is not None}


def expand(template: str, values: Mapping[str, str | None]) -> str:
    """The URI of an RFC 6570 `template` (level 3: the operators resource templates use) with `values`."""

    def one(match: re.Match[str]) -> str:
        op, names = match.group(1), [n.strip().rstrip("*") for n in match.group(2).split(",")]
        first, sep, named = _OPERATORS[op]
        safe = ":/?#[]@!$&'()*+,;=" if op in "+#" else ""
        given = [(n, value) for n in names if (value := values.get(n)) is not None]
        parts = [(f"{n}=" if named else "") + urllib.parse.quote(value, safe=safe) for n, value in given]
        return first + sep.join(parts) if parts else ""

    return _EXPRESSION.sub(one, template)


class InvalidToolArguments(McpError):
    """Arguments that do not fit the tool's input schema; nothing was sent."""

    def __init__(self, tool: str, detail: str) -> None:
        super().__init__(f"{tool}: invalid arguments: {detail}", code=INVALID_PARAMS)
        self.tool = tool


class ToolError(McpError):
    """The tool ran and failed (its result has `isError`); the message is the result's text."""

    def __init__(self, tool: str, result: mcp.CallToolResult) -> None:
        blocks = [to_builtins(block) for block in result.content]
        texts = [str(b.get("text")) for b in blocks if b.get("type") == "text"]
        super().__init__(f"{tool} failed: {' '.join(texts) or 'no message'}", code=INTERNAL_ERROR)
        self.tool = tool
        self.result = result


def _check(value: Any, tp: type[T]) -> T:
    """`value` (a Struct, or JSON) validated as `tp`: a constructor checks no types, a conversion does."""
    return numbers.convert(msgspec.to_builtins(value), tp)  # (`1.0` for an int: an integer)


class ToolStubs:
    """The base of a generated stub class: the client it calls through."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def _call(
        self,
        tool: str,
        arguments: msgspec.Struct | Mapping[str, Any] | None,
        output: type[T],
        *,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> T:
        """Call `tool`; its structured result as `output`."""
        result = await self._result(tool, arguments, progress=progress, timeout=timeout)
        structured: Any = result.structured_content
        if structured is msgspec.UNSET:
            # Before 2025-06-18 (and from servers that leave it out) the structured result is only
            # the JSON of the one text block, which such a tool should send.
            blocks = [to_builtins(block) for block in result.content]
            if len(blocks) != 1 or blocks[0].get("type") != "text":
                raise InvalidToolResult(tool, "no structured content", result)
            try:
                structured = msgspec.json.decode(blocks[0]["text"])
            except msgspec.DecodeError:
                raise InvalidToolResult(
                    tool, "no structured content, and the text is not JSON", result
                ) from None
        try:
            return numbers.convert(structured, output)  # (`1.0` for an int: an integer)
        except msgspec.ValidationError as exc:
            raise InvalidToolResult(tool, str(exc), result) from None

    async def _result(
        self,
        tool: str,
        arguments: msgspec.Struct | Mapping[str, Any] | None,
        *,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> mcp.CallToolResult:
        """Call `tool` (the arguments validated first); the whole result, for a tool with no output
        schema. A result with `isError` raises `ToolError`."""
        sent: Mapping[str, Any] | None
        if isinstance(arguments, msgspec.Struct):
            try:
                sent = msgspec.to_builtins(_check(arguments, type(arguments)))
            except msgspec.ValidationError as exc:
                raise InvalidToolArguments(tool, str(exc)) from None
            except (TypeError, ValueError) as exc:  # a value no JSON can carry
                raise InvalidToolArguments(tool, f"{exc} - at `$`") from None
        else:
            sent = arguments
        result = await self.client.call_tool(tool, sent, progress=progress, timeout=timeout)
        if result.is_error is True:
            raise ToolError(tool, result)
        return result
