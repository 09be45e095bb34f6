"""The cap on Streamable HTTP sessions and their idle expiry, against mcpbind's ASGI app under a real
uvicorn on loopback: past `HttpSecurity.max_sessions` an `initialize` is refused 503 with Retry-After;
once sessions have been idle longer than `session_idle_timeout`, an `initialize` at the cap ends them
and is served, while a session in use lives on."""

from __future__ import annotations

import asyncio

import httpx

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp, HttpSecurity

from ..http_support import BOTH, initialize, open_session, request, serve_in_process

REVISION = "2025-11-25"


def _app() -> HttpApp:
    server = Server("limits", "1.0.0")

    @server.tool()
    def echo(text: str) -> str:
        """Say `text` back."""
        return text

    return HttpApp(server, security=HttpSecurity(max_sessions=3, session_idle_timeout=0.6))


def test_sessions_are_capped_and_idle_ones_give_way() -> None:
    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            kept, *idle = [await open_session(http, url, REVISION) for _ in range(3)]
            refused = await http.post(url, json=initialize(REVISION), headers={"accept": BOTH})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            assert refused.json()["error"]["message"] == "Too many sessions"
            # `kept` is used all along; the other two are idle past their timeout (and past the
            # second between two looks for idle sessions at the cap).
            for n in range(6):
                await asyncio.sleep(0.25)
                ping = await http.post(url, json=request(10 + n, "ping"), headers=kept.headers())
                assert ping.status_code == 200, ping.text
            fresh = await open_session(http, url, REVISION)
            assert fresh.id not in {kept.id, *(s.id for s in idle)}
            for gone in idle:
                late = await http.post(url, json=request(99, "ping"), headers=gone.headers())
                assert late.status_code == 404, late.text
            alive = await http.post(url, json=request(100, "ping"), headers=kept.headers())
            assert alive.status_code == 200 and alive.json()["result"] == {}

    with serve_in_process(_app()) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))
