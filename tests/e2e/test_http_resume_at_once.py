"""A client that loses a session's SSE stream and resumes it at once (GET with `Last-Event-ID`) gets the
rest of the stream, under a real uvicorn on loopback. The resumption was refused 409 while the server
had not yet seen the old connection go (its close and the new request arriving together, or a proxy
keeping it open): now the resumption takes the stream over, and the old response ends."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpApp

from ..http_support import call, open_session, serve_in_process

REVISION = "2025-11-25"


def _server() -> Server:
    server = Server("resume", "1.0.0")

    @server.tool()
    async def count(upto: int, pause: float, ctx: Context) -> str:
        """Progress 1..`upto`, `pause` seconds apart, then the answer."""
        for n in range(1, upto + 1):
            await ctx.progress(n, upto)
            await asyncio.sleep(pause)
        return f"counted to {upto}"

    return server


class _Wire:
    """One HTTP/1.1 exchange on a socket of its own, read event by event (no client library: the
    test closes it exactly when it wants)."""

    def __init__(self, url: str, method: str, headers: dict[str, str], body: bytes = b"") -> None:
        host, port = url.split("//")[1].split("/")[0].split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        lines = [
            f"{method} /mcp HTTP/1.1",
            f"host: {host}:{port}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        if body:
            lines += ["content-type: application/json", f"content-length: {len(body)}"]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        self.data = b""

    def status(self) -> int:
        while b"\r\n\r\n" not in self.data:
            self.data += self._recv()
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1])

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def event(self) -> tuple[str | None, dict[str, Any]] | None:
        """The next SSE event with data; None at the response's end. (Read through the chunked framing: each
        write of the server's is one chunk of whole events, so its size line is a line of no field.)"""
        while True:
            block, found, rest = self.data.partition(b"\r\n\r\n")
            if not found:
                try:
                    self.data += self._recv()
                except EOFError:
                    return None
                continue
            self.data = rest
            lines = block.split(b"\r\n")
            if lines[-1] == b"0":  # the chunked body's last chunk: the response ended
                return None
            data = [line[5:].strip() for line in lines if line.startswith(b"data:")]
            ids = [line[3:].strip().decode() for line in lines if line.startswith(b"id:")]
            if data and any(data):  # (primes, keep-alive comments and chunk sizes carry no message)
                return (ids[0] if ids else None, json.loads(b"\n".join(data)))

    def close(self) -> None:
        self.sock.close()


def test_a_stream_dropped_and_resumed_at_once_goes_on_to_its_answer() -> None:
    app = HttpApp(_server(), keepalive=0.05)

    async def main(url: str) -> dict[str, Any]:
        import httpx

        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, REVISION)
        return session.headers()

    with serve_in_process(app) as url:
        headers = asyncio.run(asyncio.wait_for(main(url), 30))
        for round in range(10):
            message = call(round, "count", {"upto": 4, "pause": 0.02}, _meta={"progressToken": "p"})
            post = _Wire(url, "POST", headers, json.dumps(message).encode())
            assert post.status() == 200
            first = post.event()
            assert first is not None and first[0] is not None and first[1]["params"]["progress"] == 1
            post.close()  # dropped, and resumed with no pause at all
            resume = _Wire(url, "GET", {**headers, "accept": "text/event-stream", "last-event-id": first[0]})
            assert resume.status() == 200, resume.data
            seen = []
            while (event := resume.event()) is not None:
                seen.append(event[1])
                if event[1].get("id") == round:
                    break
            resume.close()
            assert [m["params"]["progress"] for m in seen[:-1]] == [2, 3, 4], seen
            assert seen[-1]["result"]["content"][0]["text"] == "counted to 4", seen


def test_a_resumption_of_the_get_stream_takes_it_over_and_a_listener_is_still_refused() -> None:
    """The session's GET stream resumed (`Last-Event-ID: get-<n>`) while a response still writes it
    out: the resumption gets it, the old response ends; a plain second GET is still refused 409."""
    app = HttpApp(_server(), keepalive=0.05)

    async def main(url: str) -> dict[str, Any]:
        import httpx

        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, REVISION)
        return session.headers(accept="text/event-stream")

    with serve_in_process(app) as url:
        headers = asyncio.run(asyncio.wait_for(main(url), 30))
        old = _Wire(url, "GET", headers)
        assert old.status() == 200
        while b"id: get-" not in old.data:  # its first event, the prime: what the client resumes after
            old.data += old._recv()
        new = _Wire(url, "GET", {**headers, "last-event-id": "get-0"})
        assert new.status() == 200, new.data
        assert old.event() is None  # (the old response ended: no event, then the end of the stream)
        second = _Wire(url, "GET", headers)
        assert second.status() == 409, second.data
        for wire in (old, new, second):
            wire.close()
