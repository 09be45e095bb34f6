"""The HTTP client's stream of a session request that was cancelled (here: timed out), against a hostile
ASGI server under uvicorn that keeps every `ping`'s SSE stream open with comment lines and never ends it:
the stream is read on for the client's `cancel_grace` (what the server sends about the call arrives),
then closed, or at once when the call's answer comes. The server counts the streams it still has open
(one ends when uvicorn tells the app its client went), so what the client left open shows."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import RequestTimeout

from ..http_support import serve_in_process

REVISION = "2025-11-25"
SETTLED = 30.0
"""How long the streams may take to be seen closed on a loaded machine (far above the grace given)."""
AT_ONCE = 8.0
"""Far below a grace of `LONG_GRACE`: the stream closed because of the answer, not the grace."""
LONG_GRACE = 120.0


class EndlessStreams:
    """A minimal stateful MCP server (ASGI): `initialize`, notifications (202), other requests answered
    `{}` (`tools/list`: no tools); a `ping` is answered by an SSE stream of comment lines without end.
    When a ping is cancelled it sends, on that ping's stream, a log message and, if
    `answer_after_cancel`, an error for the ping, and goes on with comment lines."""

    def __init__(self, answer_after_cancel: bool = False) -> None:
        self.answer_after_cancel = answer_after_cancel
        self.open = 0
        self.opened = 0
        self.closed_at: list[float] = []
        self._lock = threading.Lock()
        self._cancelled: dict[Any, asyncio.Event] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] != "POST":
            await self._plain(send, 405, b"")
            return
        request = json.loads(body)
        rid, method = request.get("id"), request.get("method")
        if method == "notifications/cancelled":
            self._cancelled.setdefault(request["params"]["requestId"], asyncio.Event()).set()
        if rid is None:
            await self._plain(send, 202, b"")
        elif method == "ping":
            await self._endless(rid, receive, send)
        else:
            result: dict[str, Any] = {"tools": []} if method == "tools/list" else {}
            if method == "initialize":
                result = {
                    "protocolVersion": REVISION,
                    "capabilities": {"logging": {}},
                    "serverInfo": {"name": "endless", "version": "0"},
                }
            answer = json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()
            await self._plain(send, 200, answer, [(b"mcp-session-id", b"endless")])

    async def _plain(self, send: Any, status: int, body: bytes, extra: list[Any] | None = None) -> None:
        headers = [(b"content-type", b"application/json"), *(extra or [])]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _endless(self, rid: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        with self._lock:
            self.open += 1
            self.opened += 1
        cancelled = self._cancelled.setdefault(rid, asyncio.Event())

        async def stream() -> None:
            told = False
            while True:
                if cancelled.is_set() and not told:
                    told = True
                    log = {"level": "info", "data": f"withdrawn {rid}"}
                    events = [{"jsonrpc": "2.0", "method": "notifications/message", "params": log}]
                    if self.answer_after_cancel:
                        error = {"code": -32800, "message": "cancelled"}
                        events.append({"jsonrpc": "2.0", "id": rid, "error": error})
                    for event in events:
                        data = b"data: " + json.dumps(event).encode() + b"\n\n"
                        await send({"type": "http.response.body", "body": data, "more_body": True})
                await send({"type": "http.response.body", "body": b": keep\n", "more_body": True})
                await asyncio.sleep(0.05)

        writer = asyncio.ensure_future(stream())
        try:
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            writer.cancel()
            with self._lock:
                self.open -= 1
                self.closed_at.append(time.monotonic())


async def wait_until(check: Any, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return bool(check())


def test_timed_out_requests_streams_close_after_the_grace_and_nothing_leaks() -> None:
    server = EndlessStreams()
    logs: list[Any] = []

    async def on_log(params: dict[str, Any]) -> None:
        logs.append(params.get("data"))

    async def main() -> None:
        with serve_in_process(server) as url:
            # (The default grace, 5 s: what the server sends after the cancel comes in time on a loaded
            # machine, where a second might not.)
            client = Client.http(url, mode=REVISION, request_timeout=0.5, on_log=on_log)
            async with client:
                baseline = len(asyncio.all_tasks())
                for _ in range(20):
                    with pytest.raises(RequestTimeout):
                        await client.ping()
                assert server.opened == 20
                # Each stream is read on through its grace: what the server sent about the call came.
                assert await wait_until(lambda: len(logs) == 20, SETTLED), logs
                # Then closed: no stream open at the server, no task left in the client.
                assert await wait_until(lambda: server.open == 0, SETTLED), f"{server.open} streams open"
                assert await wait_until(lambda: len(asyncio.all_tasks()) <= baseline, SETTLED)
                assert len(set(logs)) == 20  # (one for each ping)
                assert await client.list_tools() == []  # the session goes on

    asyncio.run(asyncio.wait_for(main(), 120))


def test_a_cancelled_calls_answer_closes_its_stream_at_once() -> None:
    server = EndlessStreams(answer_after_cancel=True)
    logs: list[Any] = []

    async def on_log(params: dict[str, Any]) -> None:
        logs.append(params.get("data"))

    async def main() -> None:
        with serve_in_process(server) as url:
            client = Client.http(
                url, mode=REVISION, request_timeout=0.5, cancel_grace=LONG_GRACE, on_log=on_log
            )
            async with client:
                for _ in range(3):
                    timed_out = time.monotonic()
                    with pytest.raises(RequestTimeout):
                        await client.ping()
                    assert await wait_until(lambda: server.open == 0, AT_ONCE), (
                        "the stream outlived the answer"
                    )
                    assert server.closed_at[-1] - timed_out < AT_ONCE
                assert len(logs) == 3  # the log sent after the cancel, ahead of the answer, came
                assert await client.list_tools() == []

    asyncio.run(asyncio.wait_for(main(), 120))
