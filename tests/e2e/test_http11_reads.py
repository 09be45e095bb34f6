"""How the HTTP/1.1 client reads its sockets, against real sockets on 127.0.0.1: into one buffer its
connections share, never into a new 256 KiB bytes object per read (as a plain asyncio `Protocol` does),
and without one connection's bytes reaching another's response.

Why it matters: each such read is a 256 KiB allocation that glibc serves by mmap, mremap and munmap
(two page faults, some 20 us of system time per answer) or not, by what the process freed before.
The client's CPU per call swung by a third with the modules imported at start-up (issue #22).
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.transports.http.connection11 import READ_SIZE
from mcpbind.transports.http.http11 import HttpClient

from ..http_support import MODERN, serve

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def run(coro: Awaitable[Any], loop: str = "asyncio") -> Any:
    bounded = asyncio.wait_for(coro, 60)
    if loop == "uvloop":
        import uvloop

        return uvloop.run(bounded)
    return asyncio.run(bounded)  # type: ignore[arg-type]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A server on a free loopback port running `handler` per connection; yields its URL."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp"
    finally:
        server.close()
        await server.wait_closed()


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request on the connection with its own body."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()


@pytest.mark.parametrize("mode", ["2025-11-25", MODERN])
def test_reading_answers_allocates_no_read_sized_block(mode: str) -> None:
    """A run of tool calls over HTTP to the full server (in its own process: only the client is traced)
    with at most a few KiB allocated at any time above what is kept at the end (answered requests wait
    in the timeout queue to be swept out together); a read into a fresh bytes object, the cause of
    #22, would take READ_SIZE at once on every read."""

    async def main(url: str) -> int:
        async with Client.http(url, mode=mode, request_timeout=30) as client:

            async def call(n: int) -> None:
                result = await client.call_tool("echo", {"text": f"call {n}"})
                assert result.content[0].text == f"call {n}"

            await asyncio.gather(*(call(n) for n in range(32)))  # connected, buffer made, paths warm
            tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                for n in range(100):
                    await call(n)
                kept, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            return peak - kept

    with serve() as url:
        above = run(main(url))
    assert above < READ_SIZE // 4, f"{above} bytes more at once than kept, reading small answers"


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_connections_sharing_the_buffer_keep_their_own_bytes(loop: str) -> None:
    """16 connections at once, each answer distinct and larger than the buffer (several reads each,
    interleaved with the other connections' reads): every one comes back whole and its own, on
    asyncio's loop and on uvloop (whose transports are no asyncio.Transport)."""

    async def main() -> None:
        async with serving(echo) as url:
            http = HttpClient()

            async def call(n: int) -> None:
                body = bytes([n]) * (READ_SIZE + 4099 * n)
                async with http.request("POST", url, {}, body) as r:
                    got = await r.read()
                assert got == body, f"answer {n}: {len(got)} bytes, not its own {len(body)}"

            for _ in range(2):  # the second time round on kept-alive connections
                await asyncio.gather(*(call(n) for n in range(16)))
            await http.close()

    run(main(), loop)


def answers_with_more(after: bytes, idle: bool) -> tuple[Handler, list[int]]:
    """A handler whose first answer ("ab", framed by its Content-Length) is followed by `after`, in
    the same write or (`idle`) once the client has had the answer; later requests, and those on any
    other connection, are answered as they should be ("ok"). Also the connections seen, in order."""
    seen: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(len(seen))
        first = len(seen) == 1
        while True:
            await reader.readuntil(b"\r\n\r\n")  # (GET requests: no body)
            if first:
                first = False
                answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nab"
                if idle:
                    writer.write(answer)
                    await writer.drain()
                    await asyncio.sleep(0.2)
                    writer.write(after)
                else:
                    writer.write(answer + after)
            else:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()

    return handler, seen


@pytest.mark.parametrize("idle", [False, True], ids=["same-read", "idle"])
@pytest.mark.parametrize(
    "after",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil",  # a whole answer nobody asked for
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-evil: 1\r\n\r\n",  # its head: the next body's
        b"evil",  # no HTTP at all
        b"HTTP/1.1 200 OK\r\n",  # a status line only: no header for a callback to see
        b"HTTP/1.1 2",  # the start of one
    ],
    ids=["answer", "head", "junk", "status", "partial"],
)
def test_bytes_after_an_answer_end_the_connection_not_the_answer(after: bytes, idle: bool) -> None:
    """A response's body is its Content-Length: what the server sends past it (in the same read, or
    later on the idle kept-alive connection) is neither added to that answer nor read as the next
    one's. The answer stands as framed; the connection is closed, and the next request goes on a new
    one and gets its own answer."""

    async def main() -> None:
        handler, seen = answers_with_more(after, idle)
        async with serving(handler) as url:
            http = HttpClient()
            async with http.request("GET", url, {}) as r:
                assert await r.read() == b"ab"
                assert "x-evil" not in r.headers
            if idle:
                for _ in range(100):  # until the bytes after the answer are read (bounded)
                    if all(conn.closed for pool in http.idle.values() for conn in pool):
                        break
                    await asyncio.sleep(0.05)
            async with http.request("GET", url, {}) as r:
                assert await r.read() == b"ok"
                assert "x-evil" not in r.headers
            assert seen == [0, 1], "the connection with bytes after its answer was used again"
            await http.close()

    run(main())
