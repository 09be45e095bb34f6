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
    client went away. Now the listen ends once a notification waits for room (cancelled, as if by the
    client), what waits is bounded, and a listener that reads gets every notification."""
    server = _server()
    app = HttpApp(server, security=HttpSecurity(max_unsent_bytes=64 * 1024))
    with serve_in_process(app) as url:
        host, port = url.split("//")[1].split("/")[0].split(":")
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect((host, int(port)))
        body, headers = _listen("stalled")
        head = ["POST /mcp HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        stalled.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)  # and never reads

        async def main() -> None:
            seen = 0
            async with httpx.AsyncClient(timeout=60) as http:
                body, headers = _listen("reader")
                async with http.stream("POST", url, content=body, headers=headers) as listening:
                    deadline = time.monotonic() + 10
                    while sum(len(c.listeners) for c in list(server._connections)) < 2:
                        assert time.monotonic() < deadline, "the listens were not both taken"
                        await asyncio.sleep(0.02)
                    call = modern(1, "tools/call", {"name": "flood", "arguments": {"count": CHANGES}})
                    flooding = asyncio.ensure_future(http.post(url, json=call, headers=modern_headers(call)))
                    most = 0
                    async for line in listening.aiter_lines():
                        if line.startswith("data:") and "notifications/resources/updated" in line:
                            seen += 1
                            most = max(most, _pending(server))
                            if seen == CHANGES:
                                break
                    answer = await asyncio.wait_for(flooding, 60)
                    assert "result" in answer.json(), answer.text
                    # Once the stalled listen has ended, nothing waits for room on its stream any more
                    # (its final message queued wakes the writers that waited).
                    deadline = time.monotonic() + 10
                    while _pending(server):
                        assert time.monotonic() < deadline, _pending(server)
                        await asyncio.sleep(0.05)
            assert seen == CHANGES  # the reading listener missed nothing
            assert most < 200, most  # what waits for the stalled one is bounded
            listeners = [rid for conn in list(server._connections) for rid in conn.listeners]
            assert "stalled" not in listeners  # its listen was ended

        try:
            asyncio.run(asyncio.wait_for(main(), 120))
        finally:
            stalled.close()
