"""The middleware server in memory: calls are timed and logged, the fourth tool call is refused."""

import asyncio
import logging

import pytest
from middleware_server import limit, server

from mcpbind.client import Client, Mode
from mcpbind.errors import McpError
from mcpbind.generated import latest


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_rate_limit_and_timing(mode: Mode, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            for n in range(3):
                result = await client.call_tool("echo", {"text": str(n)})
                assert result.content == [latest.TextContent(text=str(n))]
            with pytest.raises(McpError, match="rate limit exceeded"):
                await client.call_tool("echo", {"text": "one too many"})
            await client.list_tools()  # other methods are not limited

    with caplog.at_level(logging.INFO, logger="calls"):
        limit.seen.clear()  # a fresh window for each era
        asyncio.run(main())
    assert any(r.getMessage().startswith(f"tools/call ({mode}) took") for r in caplog.records)
