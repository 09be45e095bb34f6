"""The client's 2024-11-05 HTTP+SSE transport against hostile servers (in-process ASGI apps on
loopback): an `endpoint` event naming another origin is refused before anything is sent there (the
messages, and the credentials the auth hook adds to each POST, would go where the user never
pointed the client), and a POST the server refuses fails its request at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.transports.http.client import LegacySseTransport

from ..auth_support import serving
from ..http_support import serve_in_process
from .test_auth_streams import legacy_app

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def hostile(
    endpoint: list[str],
    seen: list[tuple[str, str, str]],
    post_status: int = 202,
    stream_type: bytes = b"text/event-stream",
) -> Asgi:
    """A 2024-11-05 server whose stream (of Content-Type `stream_type`) names `endpoint[0]`; it records
    each request (method, path, Authorization) and answers POSTs with `post_status`."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        seen.append((scope["method"], scope["path"], headers.get(b"authorization", b"").decode()))
        if scope["method"] == "GET":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", stream_type)],
                }
            )
            event = f"event: endpoint\ndata: {endpoint[0]}\n\n".encode()
            await send({"type": "http.response.body", "body": event, "more_body": True})
            while (await receive())["type"] != "http.disconnect":
                pass
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": post_status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


async def token() -> str:
    return "secret-token"


@pytest.mark.parametrize(
    "named",
    [
        "{thief}/steal",
        "//127.0.0.1:{thief_port}/steal",
        "{thief_https}/steal",
        "http://127.0.0.1:notaport/steal",
    ],
)
def test_an_endpoint_of_another_origin_is_refused(named: str) -> None:
    """MCP 2024-11-05, HTTP with SSE: the server sends "an `endpoint` event containing a URI for the
    client to use for sending messages". A URI of another origin (another port, scheme or host) is
    refused at `start()`: the thief receives no request, no token."""
    stolen: list[tuple[str, str, str]] = []
    seen: list[tuple[str, str, str]] = []
    with serving(hostile(["unused"], stolen)) as thief:
        port = thief.rsplit(":", 1)[1]
        endpoint = named.format(thief=thief, thief_port=port, thief_https=thief.replace("http:", "https:"))
        with serving(hostile([endpoint], seen)) as origin:

            async def main() -> None:
                transport = LegacySseTransport(origin + "/sse", auth=token, timeout=30)
                with pytest.raises(ConnectionError, match="another origin"):
                    await transport.start()

            asyncio.run(main())
    assert stolen == [] and [s[0] for s in seen] == ["GET"]


@pytest.mark.parametrize(
    ("named", "stream_type"),
    [
        ("/messages?s=1", b"text/event-stream"),
        ("{origin}/messages?s=1", b"text/event-stream"),
        ("HTTP://127.0.0.1:{port}/m", b"text/event-stream"),
        ("/messages?s=1", b"Text/Event-Stream; charset=utf-8"),  # (media types ignore case)
    ],
)
def test_an_endpoint_of_the_same_origin_is_used(named: str, stream_type: bytes) -> None:
    seen: list[tuple[str, str, str]] = []
    endpoint = [""]
    with serving(hostile(endpoint, seen, stream_type=stream_type)) as origin:
        endpoint[0] = named.format(origin=origin, port=origin.rsplit(":", 1)[1])

        async def main() -> None:
            transport = LegacySseTransport(origin + "/sse", auth=token, timeout=30)
            await transport.start()
            try:
                assert transport.endpoint is not None
                await transport.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
            finally:
                await transport.close()

        asyncio.run(main())
    assert [s[0] for s in seen] == ["GET", "POST"]
    assert seen[1][2] == "Bearer secret-token"


def test_a_refused_post_fails_its_request_at_once_and_the_session_goes_on() -> None:
    """MCP 2024-11-05, HTTP with SSE: messages are POSTed to the endpoint, and the server answers on
    the stream. A POST it refuses (HTTP 4xx/5xx: here 404, as a server that forgot the session
    answers, and 413, as one refusing a huge body) is never answered there: its request fails at
    once with the status, not at its timeout, and later requests on the same stream still work."""
    refusing: list[int] = []
    inner = legacy_app()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and refusing:
            await send({"type": "http.response.start", "status": refusing[0], "headers": []})
            await send(
                {"type": "http.response.body", "body": b"no such session" if refusing[0] == 404 else b""}
            )
            return
        await inner(scope, receive, send)

    with serve_in_process(app) as address:

        async def main() -> None:
            transport = LegacySseTransport(address.removesuffix("/mcp") + "/sse")
            async with Client(transport, mode="2024-11-05", request_timeout=120) as client:
                for status, said in ((404, "HTTP 404: no such session"), (413, "HTTP 413")):
                    refusing[:] = [status]
                    started = time.monotonic()
                    for _ in range(50):
                        with pytest.raises(McpError, match=said):
                            await client.call_tool("echo", {"text": "x" * 1000})
                    assert time.monotonic() - started < 60
                    refusing.clear()
                    assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"

        asyncio.run(main())


def test_a_server_flooding_the_stream_fills_no_more_than_the_unread_bound() -> None:
    """A 2024-11-05 server that sends messages faster than the client takes them (here: far more than
    anyone reads) grew the transport's queue without limit: every event read off the stream was kept.
    Now the stream is read only while under `max_unread` bytes wait, so the server's writes wait
    instead (TCP's flow control), and every message still comes, in order, once they are read."""
    message = b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"%s"}}'
    count, size = 400, 64 * 1024
    sent: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"event: endpoint\ndata: /messages\n\n", "more_body": True}
        )
        for i in range(count):
            data = message % (b"%08d" % i + b"x" * size)
            await send(
                {
                    "type": "http.response.body",
                    "body": b"event: message\ndata: " + data + b"\n\n",
                    "more_body": True,
                }
            )
            sent.append(i)
        await send({"type": "http.response.body", "body": b""})

    with serving(app) as origin:

        async def main() -> None:
            bound = 256 * 1024
            transport = LegacySseTransport(origin + "/sse", max_unread=bound)
            await transport.start()
            try:
                await asyncio.sleep(1.5)  # the server sends as fast as it may; nobody reads
                assert transport.unread <= bound + size + 200, transport.unread
                assert len(sent) < count  # its writes wait: 25 MB were not all taken
                for i in range(count):
                    data = await asyncio.wait_for(transport.read(), 30)
                    assert data is not None and data.startswith(message.split(b"%s")[0])
                    assert b'"%08d' % i in data
                assert await asyncio.wait_for(transport.read(), 30) is None  # the stream's end
            finally:
                await transport.close()

        asyncio.run(main())
    assert len(sent) == count
