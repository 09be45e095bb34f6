"""The POST of a session's request that its client cancels (`notifications/cancelled`) before it is
answered: the spec sends no answer to a cancelled request, and the POST still ends in a form clients
read cleanly. A server that answers with JSON only says 202 Accepted with no body (the TypeScript SDK's
client returns on a 202 before it reads a body, where an empty 200 fails its JSON parse); one that
streams ends an SSE stream with no event. mcpbind's ASGI app under a real uvicorn on loopback, in a
thread of this process, so that the test sees the tool's own end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpApp

from ..http_support import call, open_session, serve_in_process

REVISION = "2025-11-25"


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]  # (an Awaitable, which wait_for takes)


class Naps:
    """A server whose tools wait until cancelled, and count the cancellations they saw."""

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = 0
        self.server = Server("naps")

        @self.server.tool()
        async def nap(seconds: float) -> str:  # no Context: the session's direct lane
            return await self._nap(seconds)

        @self.server.tool()
        async def nap_ctx(seconds: float, ctx: Context) -> str:  # the general lane
            return await self._nap(seconds)

    async def _nap(self, seconds: float) -> str:
        self.started += 1
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return "rested"


async def _until(check: Any, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never happened")


@pytest.mark.parametrize("tool", ["nap", "nap_ctx"])
@pytest.mark.parametrize("json_response", [True, False])
def test_a_cancelled_requests_post_ends_cleanly(json_response: bool, tool: str) -> None:
    naps = Naps()
    app = HttpApp(naps.server, json_response=json_response)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, REVISION)
            post = asyncio.ensure_future(
                http.post(url, json=call(2, tool, {"seconds": 60}), headers=session.headers())
            )
            await _until(lambda: naps.started == 1)
            note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}}
            assert (await http.post(url, json=note, headers=session.headers())).status_code == 202
            response = await asyncio.wait_for(post, 20)
            await _until(lambda: naps.cancelled == 1)
            assert response.content == b""  # no answer to a cancelled request
            if json_response:
                assert response.status_code == 202, response.headers
                assert "content-type" not in response.headers
            else:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
            # The session goes on.
            again = await http.post(url, json=call(3, tool, {"seconds": 0}), headers=session.headers())
            assert again.status_code == 200 and again.json()["result"]["content"][0]["text"] == "rested"

    with serve_in_process(app) as url:
        run(main(url))


@pytest.mark.parametrize("json_response", [True, False])
def test_mcpbinds_client_cancels_and_goes_on(json_response: bool) -> None:
    naps = Naps()
    app = HttpApp(naps.server, json_response=json_response)

    async def main(url: str) -> None:
        async with Client.http(url, mode=REVISION, cancel_grace=30) as client:
            waiting = asyncio.ensure_future(client.call_tool("nap", {"seconds": 60}))
            await _until(lambda: naps.started == 1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await _until(lambda: naps.cancelled == 1)
            result = await client.call_tool("nap", {"seconds": 0})
            assert result.content[0].text == "rested"  # type: ignore[union-attr]  # (a text block: the tool returns text)

    with serve_in_process(app) as url:
        run(main(url))
