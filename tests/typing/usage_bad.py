"""Deliberately mistyped use of the generated stubs: mypy --strict must reject every marked line."""

from __future__ import annotations

from mcpbind.generated import v2026_07_28 as mcp
from mcpbind.methods import Sender


def meta() -> mcp.RequestMetaObject:
    caps = mcp.ClientCapabilities()
    return mcp.RequestMetaObject(protocol_version="2026-07-28", client_capabilities=caps)


async def client(sender: Sender) -> None:
    stub = mcp.ClientStub(sender)
    listing = mcp.PaginatedRequestParams(meta=meta())
    await stub.call_tool(mcp.ListToolsRequest(id=1, params=listing))  # E: arg-type
    result = await stub.list_tools(listing)
    count: int = result.tools  # E: assignment
    mcp.TextContent(text=3)  # E: arg-type
    mcp.CallToolRequestParams(nam="echo", meta=meta())  # E: call-arg
    version: int = meta().protocol_version  # E: assignment
    await stub.ping()  # E: attr-defined
