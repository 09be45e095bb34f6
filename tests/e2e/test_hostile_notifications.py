"""A notification whose handler waits (here a middleware holding it until a later request lets it go)
does not stop its connection: what follows is read and served meanwhile, notifications that do not
wait are still handled in order, and the waiting one completes once released. Over stdio (a real
subprocess, both eras) and an HTTP session (real uvicorn), where its POST is accepted at once."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.transports.stdio import StdioClientTransport

from ..http_support import call, messages_of, open_session, serve

SERVER = str(Path(__file__).resolve().parents[1] / "servers" / "waiting_notes.py")
CANCEL_NOBODY = {"requestId": "never-sent", "reason": "hostile"}
HELD: dict[str, tuple[str, dict[str, Any] | None]] = {
    "2025-11-25": ("notifications/roots/list_changed", None),
    "2026-07-28": ("notifications/progress", {"progressToken": "none", "progress": 1}),
}


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


async def _text(client: Client, tool: str) -> str:
    return str((await client.call_tool(tool, {}, timeout=20)).content[0].text)


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_waiting_notification_handler_over_stdio(revision: str) -> None:
    async def main() -> None:
        transport = StdioClientTransport(sys.executable, [SERVER], stderr="capture")
        async with Client(transport, mode=revision) as client:
            before = "notifications/initialized," if revision == "2025-11-25" else ""
            await client.notify(*HELD[revision])  # held by the middleware
            await client.notify("notifications/cancelled", CANCEL_NOBODY)
            # Read and served while the first notification's handler waits; the second was handled.
            assert await _text(client, "seen") == before + "notifications/cancelled"
            assert await _text(client, "release") == "released"
            seen = ""
            for _ in range(500):  # bounded: the released handler ends a loop turn or so later
                seen = await _text(client, "seen")
                if seen.endswith("held"):
                    break
                await asyncio.sleep(0.02)
            assert seen == before + "notifications/cancelled,held"

    run(main())


def test_waiting_notification_handler_over_http_session() -> None:
    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-11-25")
            note = {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}
            # Accepted while its handler waits (which only the request after it can end).
            accepted = await http.post(url, json=note, headers=session.headers())
            assert accepted.status_code == 202, accepted.text
            seen = await http.post(url, json=call(2, "seen"), headers=session.headers())
            assert messages_of(seen)[0]["result"]["content"][0]["text"] == "notifications/initialized"
            released = await http.post(url, json=call(3, "release"), headers=session.headers())
            assert messages_of(released)[0]["result"]["content"][0]["text"] == "released"
            text = ""
            for rid in range(4, 500):
                answer = await http.post(url, json=call(rid, "seen"), headers=session.headers())
                text = messages_of(answer)[0]["result"]["content"][0]["text"]
                if text.endswith("held"):
                    break
                await asyncio.sleep(0.02)
            assert text == "notifications/initialized,held"

    with serve(SERVER) as url:
        run(main(url))
