"""Stateful HTTP sessions through a shared store: a session opened on one worker goes on at another."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx

from mcpbind.transports.http import HttpApp, MemorySessionStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
from full import server

HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def post(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> Any:
    return client.post("http://127.0.0.1/mcp", json=body, headers={**HEADERS, **headers})


def test_a_session_moves_between_workers_that_share_a_store() -> None:
    async def main() -> None:
        store = MemorySessionStore()
        one, two = HttpApp(server, session_store=store), HttpApp(server, session_store=store)
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=one)) as a,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=two)) as b,
        ):
            init = {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            }
            opened = await post(a, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
            sid = opened.headers["mcp-session-id"]
            session = {"mcp-session-id": sid, "mcp-protocol-version": "2025-06-18"}
            assert (
                await post(a, {"jsonrpc": "2.0", "method": "notifications/initialized"}, **session)
            ).status_code == 202
            level = {"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "error"}}
            assert (await post(a, level, **session)).json()["result"] == {}
            # Worker two has never seen the session: it rebuilds it from the store.
            call = {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "moved"}},
            }
            answer = await post(b, call, **session)
            assert answer.status_code == 200 and answer.json()["result"]["content"][0]["text"] == "moved"
            assert (
                two.sessions[sid].conn.log_level == "error"
                and two.sessions[sid].conn.revision == "2025-06-18"
            )
            # Ending it anywhere ends it everywhere.
            ended = await b.delete("http://127.0.0.1/mcp", headers={**HEADERS, **session})
            assert ended.status_code == 200
            one.sessions.clear()  # a worker that restarted
            assert (await post(a, call, **session)).status_code == 404

    asyncio.run(asyncio.wait_for(main(), 30))
