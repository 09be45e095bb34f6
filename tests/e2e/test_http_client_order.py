"""What the HTTP client sends reaches the server in the order it was sent: `notifications/initialized`
before the session's first request (requests are POSTed in the caller's task, a notification used to
go in a task of its own and could be overtaken), and the session's GET stream open before its first
request (a server may take the first GET of a session for the stream it answers on).

A real mcpbind server under uvicorn in this process, behind an ASGI layer that records each request as
it arrives: the GET at once, a POST once its body is in.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from mcpbind.client import Client
from mcpbind.server import Server

from ..http_support import serve_in_process


class Arrivals:
    """An ASGI app in front of another that records what reaches it, in order."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            self.seen.append(scope["method"])
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            self.seen.append(msgspec.json.decode(body).get("method", "answer"))
        except (msgspec.DecodeError, AttributeError):
            self.seen.append("?")
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def test_initialized_and_the_get_stream_come_before_the_first_request() -> None:
    server = Server("order")

    @server.tool()
    def echo(text: str) -> str:
        return text

    app = Arrivals(server.http_app())
    with serve_in_process(app) as url:
        for _ in range(5):  # (each a new session: the order must hold every time, not by luck)

            async def session() -> None:
                async with Client.http(url, mode="2025-11-25") as client:
                    await client.list_tools()
                    assert (await client.call_tool("echo", {"text": "x"})).content

            app.seen.clear()
            asyncio.run(asyncio.wait_for(session(), 60))
            seen = app.seen
            first = seen.index("tools/list")
            assert seen.index("initialize") < seen.index("notifications/initialized") < first, seen
            assert "GET" in seen[:first], seen
