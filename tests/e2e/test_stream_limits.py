"""An SSE stream whose client reads slowly holds a bounded number of bytes (`HttpSecurity.max_unsent_bytes`),
against a real uvicorn server in this process (so that the test sees the stream's queue) and a real client
that stops reading its response: the request's handler waits until the client reads (a session's stream
and a stateless one alike), and nothing is lost; a session's stream that its client left sheds what is
queued to the event store, from which the client's resumption with `Last-Event-ID` gets all of it."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx

from mcpbind.aio.interfaces import ROUTE
from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.http.sse import Stream

from ..http_support import call, modern, modern_headers, open_session, serve_in_process

LIMIT = 1024 * 1024
MESSAGE = 256 * 1024
COUNT = 64
"""16 MiB of progress in all: more than the loopback socket's buffers, so that the server's writer waits."""


class Flood:
    """A server whose tool sends COUNT large progress notifications, noting its stream's queued bytes."""

    def __init__(self, replay: int = 8 * 1024 * 1024) -> None:
        self.replay = replay
        self.server = Server("flood")
        self.queued: list[int] = []
        self.sent = threading.Event()

        @self.server.tool()
        async def flood(ctx: Context) -> str:
            for i in range(1, COUNT + 1):
                await ctx.progress(i, COUNT, "x" * MESSAGE)
                route = ROUTE.get()
                assert isinstance(route, Stream)
                self.queued.append(route.queue.size)
            self.sent.set()
            return "done"

    def app(self) -> Any:
        security = HttpSecurity(max_unsent_bytes=LIMIT, max_replay_bytes=self.replay)
        return self.server.http_app(security=security)


def blocks(raw: bytes) -> list[str]:
    """The whole SSE events in `raw` (one cut short by the connection's end is not an event)."""
    return raw.decode().replace("\r\n", "\n").split("\n\n")[:-1]


def events(raw: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    """The (id, JSON data) of each SSE event with data."""
    out: list[tuple[str | None, dict[str, Any]]] = []
    for block in blocks(raw):
        lines = block.split("\n")
        data = [line[5:].lstrip(" ") for line in lines if line.startswith("data:")]
        ids = [line[3:].lstrip(" ") for line in lines if line.startswith("id:")]
        if data and any(data):
            out.append((ids[-1] if ids else None, json.loads("\n".join(data))))
    return out


def last_id(raw: bytes) -> str:
    lines = "\n".join(blocks(raw)).split("\n")
    ids = [line[3:].strip() for line in lines if line.startswith("id:")]
    assert ids, "the stream carried no event id to resume from"
    return ids[-1]


def progress_of(received: list[tuple[str | None, dict[str, Any]]]) -> list[float]:
    return [m["params"]["progress"] for _, m in received if m.get("method") == "notifications/progress"]


def test_a_session_stream_read_slowly_makes_its_handler_wait() -> None:
    flood = Flood()

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(timeout=120) as http:
            session = await open_session(http, url, "2025-11-25")
            message = call(2, "flood", _meta={"progressToken": "p"})
            async with http.stream("POST", url, json=message, headers=session.headers()) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                chunks = response.aiter_raw()
                raw = await anext(chunks)
                # Not reading: the handler cannot have sent everything (it waits for the client).
                assert not await asyncio.to_thread(flood.sent.wait, 2)
                raw += b"".join([chunk async for chunk in chunks])
        received = events(raw)
        assert progress_of(received) == list(range(1, COUNT + 1))  # each once, in order
        assert received[-1][1]["result"]["content"][0]["text"] == "done"

    with serve_in_process(flood.app()) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 180))
    assert len(flood.queued) == COUNT
    assert max(flood.queued) <= LIMIT + MESSAGE + 4096, max(flood.queued)


def test_a_session_stream_its_client_left_sheds_to_the_store_and_is_resumed_whole() -> None:
    flood = Flood(replay=4 * COUNT * MESSAGE)  # the store keeps every event; the stream's queue does not

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(timeout=120) as http:
            session = await open_session(http, url, "2025-11-25")
            message = call(2, "flood", _meta={"progressToken": "p"})
            async with http.stream("POST", url, json=message, headers=session.headers()) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                first = await anext(response.aiter_raw())
            # The client left after the stream's first bytes (the priming event's id) and comes back
            # once the handler is done.
            assert await asyncio.to_thread(flood.sent.wait, 120), "the handler did not finish sending"
            headers = session.headers(**{"last-event-id": last_id(first)})
            async with http.stream("GET", url, headers=headers) as again:
                assert again.status_code == 200
                rest = b"".join([chunk async for chunk in again.aiter_raw()])
        received = events(first) + events(rest)
        assert progress_of(received) == list(range(1, COUNT + 1))
        assert received[-1][1]["result"]["content"][0]["text"] == "done"

    with serve_in_process(flood.app()) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 180))
    assert max(flood.queued) <= LIMIT + MESSAGE + 4096, max(flood.queued)


def test_a_stateless_stream_makes_its_handler_wait_for_the_client() -> None:
    flood = Flood()

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(timeout=120) as http:
            message = modern(
                2, "tools/call", {"name": "flood", "arguments": {}, "_meta": {"progressToken": "p"}}
            )
            headers = modern_headers(message)
            async with http.stream("POST", url, json=message, headers=headers) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                chunks = response.aiter_raw()
                raw = await anext(chunks)
                # Not reading: the handler cannot have sent everything (it waits for the client).
                assert not await asyncio.to_thread(flood.sent.wait, 2)
                raw += b"".join([chunk async for chunk in chunks])
        received = events(raw)
        assert progress_of(received) == list(range(1, COUNT + 1))
        assert received[-1][1]["result"]["content"][0]["text"] == "done"

    with serve_in_process(flood.app()) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 180))
    assert max(flood.queued) <= LIMIT + MESSAGE + 4096, max(flood.queued)
