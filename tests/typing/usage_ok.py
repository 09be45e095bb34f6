"""Typed use of the generated stubs and types: must pass mypy --strict."""

from __future__ import annotations

from typing import Any

from mcpbind import wire
from mcpbind.generated import v2025_11_25 as old
from mcpbind.generated import v2026_07_28 as mcp
from mcpbind.methods import NotificationMethod, RequestMethod, Sender


class EchoSender:
    """A sender that satisfies the runtime interface (structurally)."""

    async def send_request(self, method: RequestMethod[Any, Any], params: Any) -> Any:
        raise NotImplementedError

    async def send_notification(self, method: NotificationMethod[Any], params: Any) -> None:
        raise NotImplementedError


async def client(sender: Sender) -> str:
    stub = mcp.ClientStub(sender)
    meta = mcp.RequestMetaObject(
        protocol_version=mcp.PROTOCOL_VERSION, client_capabilities=mcp.ClientCapabilities()
    )
    result = await stub.call_tool(mcp.CallToolRequestParams(name="echo", arguments={"text": "hi"}, meta=meta))
    if isinstance(result, mcp.InputRequiredResult):
        return "input required"
    if isinstance(result, wire.Unknown):  # a result kind 2026-07-28 lacks (an extension's), as sent
        return f"unknown result {result['resultType']}"
    first = result.content[0]
    if isinstance(first, mcp.TextContent):
        return first.text
    tools = await stub.list_tools(mcp.PaginatedRequestParams(meta=meta))
    names: list[str] = [t.name for t in tools.tools]
    version: str = meta.protocol_version
    return ",".join(names) + version


class Handler:
    async def call_tool(self, params: old.CallToolRequestParams, ctx: int, /) -> old.CallToolResult:
        return old.CallToolResult(content=[old.TextContent(text=params.name)])


def handler_fits() -> old.ServerHandler[int]:
    h: old.ServerHandler[int] = Handler()  # type: ignore[assignment]  # partial: only tools/call
    return h


stub_sender: Sender = EchoSender()
