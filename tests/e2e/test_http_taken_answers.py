"""The HTTP client's usual answer taken by the connection's read itself (`TakingTransport`): the read
callback resolves the request's own future with its result and hands the connection back, so that
the caller awaits that future alone. What the read does not take (a head whose body is still to come
is waited for there; an SSE stream, an error, a connection lost, a timeout, a cancellation) is taken
on as before, with the same outcome; a result that came some other way while the POST waited is
the request's, and the POST's own answer is still read off its connection.

Against an MCP server on 127.0.0.1 (in process, raw HTTP/1.1) that answers `tools/call` as the tool's
name says, and records the connection each request came on and the notifications it was sent; on
asyncio's loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError, RequestTimeout
from mcpbind.transports.http.client import StreamableHttpTransport, started_peek
from mcpbind.transports.http.connection11 import HttpError

REVISION = "2025-11-25"


def _response(status: str, content_type: str, body: bytes, session: bool = False) -> bytes:
    extra = "mcp-session-id: s1\r\n" if session else ""
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{extra}content-length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


def _result(rid: Any, result: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()


def _text(rid: Any, text: str) -> bytes:
    return _result(rid, {"content": [{"type": "text", "text": text}], "isError": False})


class Server:
    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []
        """(connection, tool or method) of each request, in order."""
        self.notified: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        """Set to answer the `held` tool's calls."""


@asynccontextmanager
async def mcp_server() -> AsyncIterator[tuple[str, Server]]:
    state = Server()
    connections = 0

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        index = connections
        connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                data = await reader.readexactly(length)
                if not head.startswith(b"POST "):  # (the session's GET stream, its DELETE)
                    writer.write(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                    continue
                message = json.loads(data)
                method, rid = message["method"], message.get("id")
                if rid is None:
                    state.notified.append(message)
                    writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                    continue
                if method == "initialize":
                    result = {
                        "protocolVersion": REVISION,
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "taken", "version": "0"},
                    }
                    writer.write(_response("200 OK", "application/json", _result(rid, result), True))
                    continue
                name = message["params"]["name"] if method == "tools/call" else method
                state.seen.append((index, name))
                body = _text(rid, name)
                if name == "split":  # the head, then the body in a write of its own
                    whole = _response("200 OK", "application/json", body)
                    writer.write(whole[: whole.index(b"\r\n\r\n") + 4])
                    await writer.drain()
                    await asyncio.sleep(0.05)
                    writer.write(body)
                elif name == "sse":
                    event = b"event: message\ndata: " + body + b"\n\n"
                    writer.write(_response("200 OK", "text/event-stream", event))
                elif name == "error":
                    error = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "no"}}
                    writer.write(_response("200 OK", "application/json", json.dumps(error).encode()))
                elif name == "lost":  # the answer begun, then the connection closed
                    writer.write(_response("200 OK", "application/json", body)[:40])
                    await writer.drain()
                    return
                elif name == "silent":
                    await asyncio.sleep(3600)
                elif name == "late-stream":  # an SSE stream's head, late, then nothing
                    await asyncio.sleep(0.5)
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n")
                    writer.write(b"transfer-encoding: chunked\r\n\r\n")
                    await writer.drain()
                    await asyncio.sleep(3600)
                elif name == "held":
                    await state.release.wait()
                    writer.write(_response("200 OK", "application/json", _text(rid, "from the POST")))
                else:
                    writer.write(_response("200 OK", "application/json", body))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp", state
    finally:
        server.close()


def run(coro: Awaitable[Any], loop: str) -> Any:
    bounded = asyncio.wait_for(coro, 60)
    if loop == "uvloop":
        import uvloop

        return uvloop.run(bounded)
    return asyncio.run(bounded)  # type: ignore[arg-type]


LOOPS = pytest.mark.parametrize("loop", ["asyncio", "uvloop"])


async def text_of(client: Client, name: str, **kwargs: Any) -> str:
    result = await client.call_tool(name, {}, **kwargs)
    return str(result.content[0].text)  # type: ignore[union-attr]


@asynccontextmanager
async def connected() -> AsyncIterator[tuple[Client, Server, list[Any]]]:
    """A client, warmed up (its calls' results read in one pass), and the requests it took on after
    their read (`finish_request`), from then on."""
    async with mcp_server() as (url, state), Client.http(url, mode=REVISION) as client:
        for _ in range(12):
            assert await text_of(client, "echo") == "echo"
        taken_on: list[Any] = []
        transport = client.transport
        assert isinstance(transport, StreamableHttpTransport)
        finish = transport.finish_request

        def spy(started: tuple[Any, ...], error: BaseException | None) -> Any:
            peek = started_peek(started)
            if peek.id is not None:  # (requests: a notification's POST is taken on so too)
                taken_on.append(peek.method if error is None else type(error))
            return finish(started, error)

        transport.finish_request = spy  # type: ignore[method-assign]
        client.peer.started()  # (the requester looks the transport's methods up again)
        yield client, state, taken_on


@LOOPS
def test_usual_answers_are_taken_by_the_read_one_connection_each(loop: str) -> None:
    async def main() -> None:
        async with connected() as (client, state, taken_on):
            before = len(state.seen)
            for _ in range(5):
                texts = await asyncio.gather(*(text_of(client, "echo") for _ in range(8)))
                assert texts == ["echo"] * 8
            assert taken_on == []
            # Eight at a time reuse the connections handed back as their answers were read.
            assert len({conn for conn, _ in state.seen[before:]}) <= 9
            assert await text_of(client, "split") == "split"  # its body waited for by the read
            assert taken_on == []

    run(main(), loop)


@LOOPS
def test_what_the_read_does_not_take_ends_as_before(loop: str) -> None:
    async def main() -> None:
        async with connected() as (client, _state, taken_on):
            assert await text_of(client, "sse") == "sse"
            with pytest.raises(McpError) as refused:
                await text_of(client, "error")
            assert refused.value.code == -32602
            with pytest.raises(McpError):
                await text_of(client, "lost")
            # (the connection lost: its read failed the wait)
            assert taken_on == ["tools/call", "tools/call", HttpError]
            assert await text_of(client, "echo") == "echo"
            assert len(taken_on) == 3

    run(main(), loop)


@LOOPS
def test_a_timeout_and_a_cancellation_are_taken_on_and_the_server_told(loop: str) -> None:
    async def main() -> None:
        async with connected() as (client, state, taken_on):
            started = time.monotonic()
            with pytest.raises(RequestTimeout):
                await text_of(client, "silent", timeout=0.5)
            assert time.monotonic() - started < 5.5
            assert taken_on == [TimeoutError]
            call = asyncio.ensure_future(text_of(client, "silent"))
            while [name for _, name in state.seen].count("silent") < 2:
                await asyncio.sleep(0.01)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert taken_on == [TimeoutError, asyncio.CancelledError]
            for _ in range(100):
                if len(state.notified) >= 3:
                    break
                await asyncio.sleep(0.02)
            cancelled = [n for n in state.notified if n["method"] == "notifications/cancelled"]
            assert len(cancelled) == 2
            assert await text_of(client, "echo") == "echo"

    run(main(), loop)


@LOOPS
@pytest.mark.parametrize("same_timeout", [True, False])
def test_a_request_taken_on_times_out_counting_from_its_send(loop: str, same_timeout: bool) -> None:
    """A request whose stream's head came late (after 0.5 s of its 0.8 s) and then nothing: taken on
    (`READ_ON`), it times out 0.8 s after it was sent (the connection's `sent_at`, this request's
    own, not an earlier request's on the same connection, nor the time its head came); whether its
    connection's last wait had the same timeout (`post_idle` arms the wait itself) or not (`waiting`)."""

    async def main() -> None:
        async with connected() as (client, _state, taken_on):
            # (an earlier send on the connection)
            assert await text_of(client, "echo", timeout=0.8 if same_timeout else None) == "echo"
            await asyncio.sleep(0.3)
            started = time.monotonic()
            with pytest.raises(RequestTimeout):
                await text_of(client, "late-stream", timeout=0.8)
            waited = time.monotonic() - started
            assert 0.75 <= waited < 1.25
            assert taken_on == ["tools/call"]

    run(main(), loop)


@LOOPS
def test_a_call_cancelled_as_its_answer_was_taken_keeps_its_connection(loop: str) -> None:
    async def main() -> None:
        async with connected() as (client, state, taken_on):
            transport = client.transport
            assert isinstance(transport, StreamableHttpTransport)
            take_now = transport._take_now
            call: asyncio.Future[str] | None = None

            def take_then_cancel(conn: Any, future: asyncio.Future[Any]) -> None:
                take_now(conn, future)
                assert call is not None and future.done()
                call.cancel()  # (as the answer resolved its future: its caller has not run yet)

            transport._take_now = take_then_cancel  # type: ignore[method-assign]
            call = asyncio.ensure_future(text_of(client, "echo"))
            with pytest.raises(asyncio.CancelledError):
                await call
            del transport._take_now
            assert taken_on == []
            before = state.seen[-1][0]
            assert await text_of(client, "echo") == "echo"
            assert state.seen[-1][0] == before  # the same connection, back with the idle ones

    run(main(), loop)


@LOOPS
def test_a_result_that_came_another_way_is_the_requests_and_its_post_still_read(loop: str) -> None:
    async def main() -> None:
        async with connected() as (client, state, taken_on):
            call = asyncio.ensure_future(text_of(client, "held"))
            while state.seen[-1][1] != "held":
                await asyncio.sleep(0.01)
            rid = max(client.peer.endpoint.table)
            assert client.peer.take(_text(rid, "from elsewhere"))
            await asyncio.sleep(0.05)
            assert not call.done()  # (its POST is still read: the caller waits for its end)
            state.release.set()
            assert await call == "from elsewhere"
            assert taken_on == ["tools/call"]
            assert await text_of(client, "echo") == "echo"

    run(main(), loop)
