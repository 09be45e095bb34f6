"""`subscriptions/listen` (2026-07-28) against a client that holds its stream open and never reads it,
over mcpbind's ASGI app under a real uvicorn on loopback: the notifications meant for it must not pile
up (a task and a message per change, for as long as the client stays), and other listeners are served
all along."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp, HttpSecurity

from ..http_support import modern, modern_headers, serve_in_process

URI = "memo://" + "x" * 8000
"""A long URI (near the bound a subscription may name): every notification about it is 8 kB."""
CHANGES = 1500
"""Notifications sent: 12 MB, far more than the socket buffers and the stream's bound hold."""
STALL = 3.0
"""`HttpSecurity.stalled_stream_timeout` here (10 s by default)."""


def _server() -> Server:
    server = Server("listen", "1.0.0")

    @server.resource("memo://{name}")
    def memo(name: str) -> str:
        return name

    @server.tool()
    async def flood(count: int) -> int:
        """Tell every listener that `URI` changed, `count` times, a loop turn apart."""
        for _ in range(count):
            await server.notify_resource_updated(URI)
            await asyncio.sleep(0)
        return count

    return server


def _listen(rid: str) -> tuple[bytes, dict[str, str]]:
    message = modern(rid, "subscriptions/listen", {"notifications": {"resourceSubscriptions": [URI]}})
    return json.dumps(message).encode(), {**modern_headers(message), "content-type": "application/json"}


def _pending(server: Server) -> int:
    """Notifications of the server's connections waiting to be written out."""
    return sum(len(conn._pending_notes) for conn in list(server._connections))


def test_a_listener_that_never_reads_is_ended_not_fed_for_ever() -> None:
    """A listen whose client stops reading: the stream's queue filled to its bound, and from there
    every change left a task waiting for room, holding its notification (1500 here, 12 MB), until the
    client went away. Now, once a notification has waited for room longer than
    `stalled_stream_timeout` with the stream not moving, the listen ends at its next change (cancelled,
    as if by the client) and what waited for it goes; a listener that reads, however much slower than
    the changes come, is never ended and gets every notification."""
    server = _server()
    security = HttpSecurity(max_unsent_bytes=64 * 1024, stalled_stream_timeout=STALL)
    app = HttpApp(server, security=security)
    with serve_in_process(app) as url:
        host, port = url.split("//")[1].split("/")[0].split(":")
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect((host, int(port)))
        body, headers = _listen("stalled")
        head = ["POST /mcp HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        stalled.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)  # and never reads

        async def flood(http: httpx.AsyncClient, rid: int, count: int) -> None:
            call = modern(rid, "tools/call", {"name": "flood", "arguments": {"count": count}})
            answer = await http.post(url, json=call, headers=modern_headers(call))
            assert "result" in answer.json(), answer.text

        def listening() -> list[str]:
            return [str(rid) for conn in list(server._connections) for rid in conn.listeners]

        async def main() -> None:
            seen = 0
            async with httpx.AsyncClient(timeout=60) as http:
                body, headers = _listen("reader")
                async with http.stream("POST", url, content=body, headers=headers) as stream:
                    deadline = time.monotonic() + 10
                    while len(listening()) < 2:
                        assert time.monotonic() < deadline, "the listens were not both taken"
                        await asyncio.sleep(0.02)
                    lines = stream.aiter_lines()

                    async def read(count: int) -> None:
                        nonlocal seen
                        async for line in lines:
                            if line.startswith("data:") and "notifications/resources/updated" in line:
                                seen += 1
                                if seen == count:
                                    return

                    flooding = asyncio.ensure_future(flood(http, 1, CHANGES))
                    await read(CHANGES)  # the reader keeps up, slowly: never ended
                    await asyncio.wait_for(flooding, 60)
                    assert _pending(server) > 0  # the notifications held for the stalled listener
                    assert set(listening()) == {"stalled", "reader"}
                    await asyncio.sleep(STALL * 2)  # the stalled stream has not moved for that long
                    flooding = asyncio.ensure_future(flood(http, 2, 5))
                    await read(CHANGES + 5)
                    await asyncio.wait_for(flooding, 60)
                    # The stalled listen ended at the first of those changes, and its final message
                    # let go of every notification that waited for it.
                    deadline = time.monotonic() + 10
                    while _pending(server):
                        assert time.monotonic() < deadline, _pending(server)
                        await asyncio.sleep(0.05)
                    assert listening() == ["reader"]
            assert seen == CHANGES + 5  # the reading listener missed nothing

        try:
            asyncio.run(asyncio.wait_for(main(), 120))
        finally:
            stalled.close()
