"""Request ids a hostile client may send over HTTP (real uvicorn on loopback): null, a bool, a float, an
object, an integer past 64 bits. MCP wants a string or an integer, never null: anything else is refused
with 400 and -32600 (a request with a null id is not a notification, to be accepted with 202); a large
integer is an integer, echoed as it came. The session and the server go on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ..http_support import error_of, messages_of, modern, modern_headers, open_session, serve


def test_invalid_request_ids_are_refused_and_large_ones_echoed() -> None:
    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-11-25")
            bad: list[Any] = [None, True, 1.5, 1.0, {"a": 1}]
            for rid in bad:
                message = {"jsonrpc": "2.0", "id": rid, "method": "ping"}
                refused = await http.post(url, json=message, headers=session.headers())
                assert refused.status_code == 400, (rid, refused.status_code, refused.text)
                assert error_of(refused)["code"] == -32600
                stateless = {
                    **modern(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}}),
                    "id": rid,
                }
                refused = await http.post(url, json=stateless, headers=modern_headers(stateless))
                assert refused.status_code == 400 and error_of(refused, "2026-07-28")["code"] == -32600
            for rid in (10**25, -(10**25)):
                ping = await http.post(
                    url, json={"jsonrpc": "2.0", "id": rid, "method": "ping"}, headers=session.headers()
                )
                assert messages_of(ping) == [{"jsonrpc": "2.0", "id": rid, "result": {}}]

    with serve() as url:
        asyncio.run(asyncio.wait_for(main(url), 60))
