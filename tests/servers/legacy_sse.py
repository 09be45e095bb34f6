"""A 2024-11-05 HTTP+SSE server (the transport Streamable HTTP replaced), for the client's fallback.

`python tests/servers/legacy_sse.py PORT`: GET /sse opens a session's event stream, whose first event
names /messages?session_id=... where the client POSTs each message. The MCP side is tests/servers/full.py,
restricted to revision 2024-11-05.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path
from typing import Any

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full import server

from mcpbind.server import Connection

server.revisions = ("2024-11-05",)


class _Queue:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        self.queue.put_nowait(data)

    async def close(self) -> None:
        return None


sessions: dict[str, tuple[Connection, _Queue]] = {}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/sse" and scope["method"] == "GET":
        sid = secrets.token_hex(8)
        transport = _Queue()
        sessions[sid] = (Connection(server, transport), transport)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": f"event: endpoint\ndata: /messages?session_id={sid}\n\n".encode(),
                "more_body": True,
            }
        )
        try:
            while True:
                data = await transport.queue.get()
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"event: message\ndata: " + data + b"\n\n",
                        "more_body": True,
                    }
                )
        finally:
            sessions.pop(sid, None)
    elif scope["path"] == "/messages" and scope["method"] == "POST":
        sid = scope["query_string"].decode().partition("session_id=")[2]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if sid not in sessions:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await sessions[sid][0].peer.feed(body)
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    else:
        await send({"type": "http.response.start", "status": 405, "headers": []})
        await send({"type": "http.response.body", "body": b""})


if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", timeout_graceful_shutdown=1
    )
