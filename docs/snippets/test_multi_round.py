"""The order is placed once per call in both eras, however many rounds the call takes."""

import asyncio
from typing import Any

import multi_round
import pytest

from mcpbind.client import Client, Mode
from mcpbind.generated import latest


async def accept(params: dict[str, Any]) -> dict[str, Any]:
    return {"action": "accept", "content": {"pay": True}}


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_one_order_per_call(mode: Mode) -> None:
    async def main() -> None:
        async with Client.memory(multi_round.server, mode=mode, elicitation=accept) as client:
            result = await client.call_tool("order", {"item": "tea"})
            assert result.content == [latest.TextContent(text="order-1: paid")]

    multi_round.orders_placed.clear()
    asyncio.run(main())
    assert multi_round.orders_placed == ["tea"]  # placed once, not once per round
