"""The content server in memory, both eras: typed blocks and a structured result arrive as sent."""

import asyncio
import base64

import pytest
from content_server import PIXEL, server

from mcpbind.client import Client, Mode
from mcpbind.generated import latest


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_blocks_and_structure(mode: Mode) -> None:
    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            tools = {tool.name: tool for tool in await client.list_tools()}
            schema = tools["forecast"].output_schema
            assert isinstance(schema, latest.ToolOutputSchema)
            assert set(schema["properties"]) == {"city", "celsius", "sunny"}
            weather = await client.call_tool("forecast", {"city": "Paris"})
            assert weather.structured_content == {"city": "Paris", "celsius": 21.5, "sunny": True}
            text, image, embedded = (await client.call_tool("chart", {"city": "Paris"})).content
            assert text == latest.TextContent(text="The week in Paris")
            assert isinstance(image, latest.ImageContent) and image.mime_type == "image/png"
            assert image.data == base64.b64encode(PIXEL).decode()
            assert isinstance(embedded, latest.EmbeddedResource)
            assert isinstance(embedded.resource, latest.TextResourceContents)
            assert embedded.resource.mime_type == "text/csv"

    asyncio.run(main())
