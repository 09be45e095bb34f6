"""A schema-exact server written against the generated handler protocol of one revision.

`python tests/servers/lowlevel.py REVISION` (2025-06-18 or 2026-07-28).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from mcpbind.generated import v2025_06_18 as old
from mcpbind.generated import v2026_07_28 as new
from mcpbind.server.lowlevel import HandlerContext, HandlerServer
from mcpbind.transports.stdio import StdioServerTransport


class OldHandler:
    def __init__(self) -> None:
        self.roots: list[str] = []

    async def on_roots_list_changed(self, params: Any, ctx: HandlerContext, /) -> None:
        # Asks the client back from a notification's handler: its answer must still be read.
        self.roots = [root.uri for root in (await ctx.client.list_roots()).roots]

    async def initialize(
        self, params: old.InitializeRequestParams, ctx: HandlerContext, /
    ) -> old.InitializeResult:
        return old.InitializeResult(
            protocol_version="2025-06-18",
            capabilities=old.ServerCapabilities(tools=old.ServerCapabilitiesTools()),
            server_info=old.Implementation(name="lowlevel", version="1"),
        )

    async def list_tools(
        self, params: old.PaginatedRequestParams | None, ctx: HandlerContext, /
    ) -> old.ListToolsResult:
        return old.ListToolsResult(
            tools=[old.Tool(name="echo", input_schema=old.ToolInputSchema(type="object"))]
        )

    async def call_tool(
        self, params: old.CallToolRequestParams, ctx: HandlerContext, /
    ) -> old.CallToolResult:
        if params.name == "roots":
            return old.CallToolResult(content=[old.TextContent(text=" ".join(self.roots))])
        if params.name == "bad":
            return old.CallToolResult(content=[old.TextContent(text=3)])  # type: ignore[arg-type]
        args: Any = params.arguments
        return old.CallToolResult(content=[old.TextContent(text=str(args.get("text")))])


class NewHandler:
    async def discover(self, params: new.RequestParams, ctx: HandlerContext, /) -> new.DiscoverResult:
        return new.DiscoverResult(
            supported_versions=["2026-07-28"],
            capabilities=new.ServerCapabilities(),
            ttl_ms=0,
            cache_scope="public",
        )

    async def call_tool(
        self, params: new.CallToolRequestParams, ctx: HandlerContext, /
    ) -> new.CallToolResult:
        return new.CallToolResult(content=[new.TextContent(text=params.name)])


async def main(revision: str) -> None:
    handler: object = OldHandler() if revision == "2025-06-18" else NewHandler()
    transport = StdioServerTransport()
    await transport.start()
    await HandlerServer(handler, revision).serve(transport)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
