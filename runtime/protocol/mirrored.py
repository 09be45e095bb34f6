"""The stateless wire's routing headers against the body they mirror, pure: `MCP-Protocol-Version`,
`Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` (2026-07-28 "Sending Messages"; the classifier's, `inbound`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import quoted
from . import tasks
from .fields import Headers, text_of
from .headers import Peek, decode_value, render, value_at

__all__ = ["ParamPaths", "header_mismatch", "name_mismatch"]

ParamPaths = Callable[[Any], Mapping[str, tuple[str, ...]]]
"""The argument paths the `Mcp-Param-*` headers of a call of a tool mirror, by the tool's name."""


def header_mismatch(headers: Headers, peek: Peek, version: str | None, param_paths: ParamPaths) -> str | None:
    """The stateless wire's headers against the body (`MCP-Protocol-Version`, `Mcp-Method`, then
    `name_mismatch`): what does not match, or None."""
    body_method, params = peek.method, peek.params
    body_version = params.meta.version if params and params.meta else None
    if version is None:
        return "MCP-Protocol-Version is required"
    if body_version is not None and body_version != version:
        return f"MCP-Protocol-Version {quoted(version)} but _meta says {quoted(body_version)}"
    method = text_of(headers, b"mcp-method")
    if method is None:
        if peek.id is None:
            # The transport requires it of requests; a notification's headers are not defined
            # (2026-07-28 "Sending Messages"), and clients send `notifications/cancelled` without.
            return None
        return "Mcp-Method is required"
    if method != body_method:
        return f"Mcp-Method {quoted(method)} but the body's method is {quoted(body_method or '')}"
    return name_mismatch(headers, peek, param_paths)


def name_mismatch(headers: Headers, peek: Peek, param_paths: ParamPaths) -> str | None:
    """`Mcp-Name` against the tool, prompt or resource the body names, and `Mcp-Param-*`."""
    body_method, params, tool = peek.method, peek.params, peek.tool
    if tool is not None and params is not None:
        # A call whose tool was looked up for the one-pass decode, found by its `Mcp-Name` header's
        # value decoded: the header is there, and names the body's tool if the names are the same.
        if tool.name != params.name:
            return f"Mcp-Name {quoted(text_of(headers, b'mcp-name') or '')} does not match the body"
        paths = tool.param_paths
        if paths is None:
            paths = param_paths(params.name)
        return _param_mismatch(headers, peek, paths) if paths else None  # (most tools mirror none)
    if body_method in ("tools/call", "prompts/get", "resources/read"):
        if body_method == "resources/read" and params:
            source = params.uri
        else:
            source = params.name if params else None
        name = text_of(headers, b"mcp-name")
        if name is None:
            return "Mcp-Name is required"
        if decode_value(name) != source:
            return f"Mcp-Name {quoted(name)} does not match the body"
    elif body_method in tasks.EXTENSION_REQUESTS and params is not None and isinstance(params.task_id, str):
        # SEP-2663 routing headers: the task's id is the name of a `tasks/*` request.
        name = text_of(headers, b"mcp-name")
        if name is None:
            return "Mcp-Name is required"
        if decode_value(name) != params.task_id:
            return f"Mcp-Name {quoted(name)} does not match the body's taskId"
    if body_method == "tools/call" and params is not None:
        paths = param_paths(params.name)
        if paths:  # (most tools mirror no argument in a header)
            return _param_mismatch(headers, peek, paths)
    return None


def _param_mismatch(headers: Headers, peek: Peek, paths: Mapping[str, tuple[str, ...]]) -> str | None:
    """`Mcp-Param-*` headers against the arguments they mirror (the tool's `x-mcp-header`s, `paths`)."""
    arguments = peek.arguments() or {}
    for name, path in paths.items():
        value = render(value_at(arguments, path))
        header = text_of(headers, b"mcp-param-" + name.lower().encode())
        if value is None:
            continue  # nothing to mirror: the header is not expected
        if header is None:
            return f"Mcp-Param-{name} is missing but the body's argument is present"
        if decode_value(header) != value:
            return f"Mcp-Param-{name} does not match the body"
    return None
