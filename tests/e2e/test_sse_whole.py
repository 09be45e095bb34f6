"""A POST whose handler sent something (progress) and answered as soon as it ran: its SSE stream is
there whole, and goes out in one body with its length (`sse.whole`), under a real uvicorn on loopback.

What must hold as for any stream: the events in the order they were sent, the answer last; on a session
the priming event where the revision asks for one and an id on each event, kept for a resumption
(`Last-Event-ID` replays what followed it); on the stateless wire no ids. And a handler that goes on
after its progress still has the progress reach the client when sent, not with the answer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpApp

from ..http_support import (
    MODERN,
    call,
    modern,
    modern_headers,
    open_session,
    serve_in_process,
    sse_messages,
)

RELEASED = threading.Event()
"""Set by the test once the client has read the progress of `held`: the tool then answers."""


def _server() -> Server:
    server = Server("whole", "1.0.0")

    @server.tool()
    async def steps(text: str, ctx: Context) -> str:
        """Report progress twice, then say `text` back: answered as soon as it runs."""
        await ctx.progress(1, 2)
        await ctx.progress(2, 2)
        return text

    @server.tool()
    async def many(count: int, ctx: Context) -> str:
        """Report progress `count` times, then answer: answered as soon as it runs."""
        for n in range(count):
            await ctx.progress(n + 1, count)
        return f"{count} sent"

    @server.tool()
    async def held(ctx: Context) -> str:
        """Report progress, then answer once the test has seen it (10 s at most)."""
        await ctx.progress(1, 1)
        for _ in range(1000):
            if RELEASED.is_set():
                return "released"
            await asyncio.sleep(0.01)
        return "never released"

    return server


def _events(body: str) -> list[tuple[str | None, str]]:
    """(id, data) of each event of an SSE body, primes (no data) included."""
    out = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        if not block:
            continue
        ids = [line[3:].strip() for line in block.split("\n") if line.startswith("id:")]
        data = [line[5:].strip() for line in block.split("\n") if line.startswith("data:")]
        out.append((ids[0] if ids else None, "\n".join(data)))
    return out


@pytest.mark.parametrize("revision", ["2025-11-25", "2025-06-18", "2025-03-26"])
def test_a_session_stream_answered_at_once_is_one_body_numbered_and_resumable(revision: str) -> None:
    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, revision)
            for rid in (1, 2):  # (the second: the session's decoder of the body made by then)
                message = call(rid, "steps", {"text": f"hi {rid}"}, _meta={"progressToken": rid})
                response = await http.post(url, json=message, headers=session.headers())
                assert response.status_code == 200, response.text
                assert response.headers["content-type"] == "text/event-stream"
                # The whole stream in one body: sent with its length, as a JSON answer is.
                assert int(response.headers["content-length"]) == len(response.content)
                events = _events(response.text)
                if revision == "2025-11-25":  # its priming event first: an id, no data
                    prime, *events = events
                    assert prime[1] == "" and prime[0] is not None and prime[0].endswith("-0")
                ids = [i for i, _ in events]
                assert all(i is not None for i in ids)
                name = str(ids[0]).rsplit("-", 1)[0]
                assert ids == [f"{name}-1", f"{name}-2", f"{name}-3"]
                messages = sse_messages(response.text)
                assert [m.get("method") for m in messages] == ["notifications/progress"] * 2 + [None]
                assert [m["params"]["progress"] for m in messages[:2]] == [1, 2]
                assert messages[2]["id"] == rid and messages[2]["result"]["content"][0]["text"] == f"hi {rid}"
                # A client that lost the response resumes after the last event it had: the rest, from
                # the store, and the response ends (the stream had its answer).
                for after, expected in ((0, messages), (2, messages[2:])):
                    resume = {"accept": "text/event-stream", "last-event-id": f"{name}-{after}"}
                    headers = session.headers(**resume)
                    resumed = await http.get(url, headers=headers)
                    assert resumed.status_code == 200, resumed.text
                    assert sse_messages(resumed.text) == expected
                    assert [i for i, _ in _events(resumed.text)] == ids[after:]

    with serve_in_process(HttpApp(_server())) as url:
        asyncio.run(asyncio.wait_for(main(url), 30))


def test_a_long_stream_answered_at_once_is_numbered_in_order_past_the_usual_numbers() -> None:
    """More events than `whole` has numbers made for: every one numbered in order, and resumable."""

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-06-18")
            message = call(1, "many", {"count": 99}, _meta={"progressToken": "t"})
            response = await http.post(url, json=message, headers=session.headers())
            assert response.status_code == 200, response.text
            assert int(response.headers["content-length"]) == len(response.content)
            events = _events(response.text)
            name = str(events[0][0]).rsplit("-", 1)[0]
            assert [i for i, _ in events] == [f"{name}-{n}" for n in range(1, 101)]
            messages = sse_messages(response.text)
            assert [m["params"]["progress"] for m in messages[:99]] == list(range(1, 100))
            assert messages[99]["result"]["content"][0]["text"] == "99 sent"
            resume = {"accept": "text/event-stream", "last-event-id": f"{name}-63"}
            resumed = await http.get(url, headers=session.headers(**resume))
            assert resumed.status_code == 200, resumed.text
            assert [i for i, _ in _events(resumed.text)] == [f"{name}-{n}" for n in range(64, 101)]
            assert sse_messages(resumed.text) == messages[63:]

    with serve_in_process(HttpApp(_server())) as url:
        asyncio.run(asyncio.wait_for(main(url), 30))


def test_a_stateless_stream_answered_at_once_is_one_body_with_no_ids() -> None:
    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = modern(3, "tools/call", {"name": "steps", "arguments": {"text": "hey"}})
            message["params"]["_meta"]["progressToken"] = "t"
            response = await http.post(url, json=message, headers=modern_headers(message))
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "text/event-stream"
            assert int(response.headers["content-length"]) == len(response.content)
            assert [i for i, _ in _events(response.text)] == [None, None, None]
            messages = sse_messages(response.text)
            assert [m.get("method") for m in messages] == ["notifications/progress"] * 2 + [None]
            assert messages[2]["id"] == 3 and messages[2]["result"]["content"][0]["text"] == "hey"
            assert response.text.count("event: message\r\n") == 3

    with serve_in_process(HttpApp(_server())) as url:
        asyncio.run(asyncio.wait_for(main(url), 30))


@pytest.mark.parametrize("revision", ["2025-11-25", MODERN])
def test_progress_of_a_handler_that_goes_on_reaches_the_client_before_its_answer(revision: str) -> None:
    """The tool answers only once the client has read its progress: had the progress waited for the
    answer, the call would never end (the tool's 10 s bound says "never released")."""

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            if revision == MODERN:
                message = modern(4, "tools/call", {"name": "held", "arguments": {}})
                message["params"]["_meta"]["progressToken"] = "h"
                headers = modern_headers(message)
            else:
                session = await open_session(http, url, revision)
                message = call(4, "held", {}, _meta={"progressToken": "h"})
                headers = session.headers()
            seen: list[dict[str, Any]] = []
            text = ""
            async with http.stream("POST", url, json=message, headers=headers) as response:
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream"
                assert "content-length" not in response.headers  # (a stream still being written)
                async for chunk in response.aiter_text():
                    text += chunk
                    seen = sse_messages(text)
                    if seen and not RELEASED.is_set():
                        assert seen[0]["method"] == "notifications/progress"
                        RELEASED.set()
            assert [m.get("method") for m in seen] == ["notifications/progress", None]
            assert seen[1]["result"]["content"][0]["text"] == "released"

    RELEASED.clear()
    with serve_in_process(HttpApp(_server())) as url:
        asyncio.run(asyncio.wait_for(main(url), 30))


def test_a_middleware_adding_to_an_sse_head_adds_to_that_response_alone() -> None:
    """ASGI middleware may add to the list of headers it is given, in place (Starlette's
    `MutableHeaders` does): each SSE response has a list of its own, so a header added to one is not
    found again on the next (one list shared by every stream gained a header per response)."""
    server = _server()

    @server.tool()
    async def later(ctx: Context) -> str:
        """Report progress, wait a moment, answer: a stream written out as it comes."""
        await ctx.progress(1, 1)
        await asyncio.sleep(0.01)
        return "later"

    app = HttpApp(server)

    async def tagging(scope: Any, receive: Any, send: Any) -> None:
        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"].append((b"x-tag", b"1"))  # in place, as `MutableHeaders` adds
            await send(message)

        await app(scope, receive, sending)

    async def main() -> None:
        transport = httpx.ASGITransport(app=tagging)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=10) as http:
            for rid, tool in enumerate(["later", "steps", "later", "steps"]):
                message = modern(rid, "tools/call", {"name": tool, "arguments": {"text": "x"}})
                message["params"]["_meta"]["progressToken"] = rid
                response = await http.post("/mcp", json=message, headers=modern_headers(message))
                assert response.status_code == 200, response.text
                assert response.headers["content-type"] == "text/event-stream"
                assert response.headers.get_list("x-tag") == ["1"], (tool, response.headers)

    asyncio.run(asyncio.wait_for(main(), 30))
