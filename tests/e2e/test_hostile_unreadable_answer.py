"""A client's answer to the server's own request that is no JSON at all (cut off, nested too deeply),
POSTed on its session: refused with 400 and a parse error, as the transport prescribes, and the request
it answers fails at once, as over stdio, rather than waiting out its timeout. A body that names no
request of the session's (or no session) is only refused. Real uvicorn on loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from ..http_support import call, error_of, open_session, serve, sse_messages

ROOTS = {"roots": {"listChanged": False}}
BROKEN = {
    "cut off": b'{"jsonrpc":"2.0","id":ID,"result":{"roots":[{"uri":"file:///a"',
    "nested too deeply": b'{"jsonrpc":"2.0","id":ID,"result":{"roots":' + b"[" * 5000 + b"]" * 5000 + b"}}",
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_an_unreadable_answer_fails_its_request_at_once(broken: str) -> None:
    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            session = await open_session(http, url, "2025-11-25", capabilities=ROOTS)
            async with http.stream("POST", url, json=call(1, "where"), headers=session.headers()) as post:
                seen = ""
                chunks = post.aiter_text()
                asked: dict[str, Any] | None = None
                async for chunk in chunks:
                    seen += chunk
                    asked = next((m for m in sse_messages(seen) if m.get("method") == "roots/list"), None)
                    if asked is not None:
                        break
                assert asked is not None, seen
                body = BROKEN[broken].replace(b"ID", json.dumps(asked["id"]).encode())
                headers = session.headers(**{"content-type": "application/json"})
                refused = await http.post(url, content=body, headers=headers)
                assert refused.status_code == 400
                assert error_of(refused)["code"] == -32700
                async for chunk in chunks:  # the tool's answer, long before the request's timeout
                    seen += chunk
            (answer,) = [m for m in sse_messages(seen) if m.get("id") == 1 and "method" not in m]
            assert "could not be read" in json.dumps(answer), answer
            # Anything else unreadable is only refused, and the session goes on.
            for stray in (b'{"jsonrpc":"2.0","id":424242,"result":{', b'{"id":1,"method":"x","params":{'):
                again = await http.post(url, content=stray, headers=headers)
                assert again.status_code == 400 and error_of(again)["code"] == -32700
            ping = await http.post(
                url, json={"jsonrpc": "2.0", "id": 9, "method": "ping"}, headers=session.headers()
            )
            assert ping.status_code == 200

    with serve() as url:
        asyncio.run(asyncio.wait_for(main(url), 60))
