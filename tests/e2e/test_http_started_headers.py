"""The headers of a request the HTTP client sends in two steps on a kept-alive connection
(`StreamableHttpTransport.start_request`, which finds the headers kept for the usual request itself)
follow every change, as `HeaderShapes.shaped` makes them: the transport's own headers changed in place,
its session, its revision, and on the stateless wire each tool's `Mcp-Name` and a tool that mirrors its
arguments into headers.

Against a server on 127.0.0.1 (in process) that records each request's head and answers it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from mcpbind.transports.http.client import StreamableHttpTransport, started_peek
from mcpbind.transports.http.replies import request_peek

from .test_http_post_idle import RESULT, json_answer, run


class Call(msgspec.Struct):
    name: str
    arguments: dict[str, Any] = {}


@asynccontextmanager
async def recording() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    heads: list[dict[str, str]] = []

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                fields = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        fields[name.lower()] = value.strip()
                body = await reader.readexactly(int(fields["content-length"]))
                heads.append(fields)
                rid = str(msgspec.json.decode(body)["id"]).encode()
                writer.write(json_answer(RESULT).replace(b"#", rid))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp", heads
    finally:
        server.close()
        await server.wait_closed()


async def send(transport: StreamableHttpTransport, rid: int, method: str, params: Any) -> bool:
    """A request sent as `Requester.request` sends it; whether it took the two steps."""
    data = msgspec.json.encode({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
    started = transport.start_request(data, rid, method, params, 10.0)
    if started is None:
        await transport.write_request(data, rid, method, params, 10.0)
    else:
        try:
            await started[0]
        except BaseException as exc:
            rest = transport.finish_request(started, exc)
        else:
            rest = transport.finish_request(started, None)
        if rest is not None:
            await rest
    assert await asyncio.wait_for(transport.read(), 10) == RESULT.replace(b"#", b"%d" % rid)
    return started is not None


def test_the_headers_of_a_stateful_request_follow_the_transports_state() -> None:
    async def main() -> None:
        async with recording() as (url, heads):
            transport = StreamableHttpTransport(url, get_stream=False, headers={"x-trace": "a"})
            await transport.start()
            transport.protocol_version = "2025-11-25"
            try:
                await send(transport, 1, "ping", None)
                assert await send(transport, 2, "ping", None)
                transport.headers["x-trace"] = "b"  # (in place)
                assert await send(transport, 3, "ping", None)
                transport.session_id = "s-1"
                assert await send(transport, 4, "ping", None)
                transport.protocol_version = "2025-06-18"
                assert await send(transport, 5, "ping", None)
                assert await send(transport, 6, "ping", None)
            finally:
                await transport.close()
        seen = [(h["x-trace"], h.get("mcp-session-id"), h.get("mcp-protocol-version")) for h in heads]
        assert seen == [
            ("a", None, "2025-11-25"),
            ("a", None, "2025-11-25"),
            ("b", None, "2025-11-25"),
            ("b", "s-1", "2025-11-25"),
            ("b", "s-1", "2025-06-18"),
            ("b", "s-1", "2025-06-18"),
        ]

    run(main())


def test_the_headers_of_a_stateless_tool_call_name_its_tool_and_mirror_its_arguments() -> None:
    async def main() -> None:
        async with recording() as (url, heads):
            transport = StreamableHttpTransport(url, get_stream=False)
            await transport.start()
            transport.protocol_version = "2026-07-28"
            try:
                await send(transport, 1, "tools/call", Call("one"))
                assert await send(transport, 2, "tools/call", Call("one"))
                assert await send(transport, 3, "tools/call", Call("two"))
                assert await send(transport, 4, "tools/call", Call("one"))
                transport.param_headers = {"two": {"Region": ("region",)}}
                # (headers made per request, with the argument: sent the general way)
                await send(transport, 5, "tools/call", Call("two", {"region": "eu"}))
                assert await send(transport, 6, "tools/call", Call("one"))
                transport.headers["x-trace"] = "c"
                assert await send(transport, 7, "tools/call", Call("one"))
            finally:
                await transport.close()
        seen = [(h["mcp-method"], h["mcp-name"], h.get("mcp-param-region"), h.get("x-trace")) for h in heads]
        assert seen == [
            ("tools/call", "one", None, None),
            ("tools/call", "one", None, None),
            ("tools/call", "two", None, None),
            ("tools/call", "one", None, None),
            ("tools/call", "two", "eu", None),
            ("tools/call", "one", None, None),
            ("tools/call", "one", None, "c"),
        ]

    run(main())


class Read(msgspec.Struct):
    uri: str


def test_a_started_requests_peek_is_the_one_its_params_make_made_only_where_read() -> None:
    """`send_request` makes a request's `Peek` only where it shapes headers not made yet (or routes a
    stateless method other than `tools/call`): for the usual request, `finish_request` makes it
    (`started_peek`) from what was sent, as `request_peek` makes it then, whatever the transport's
    revision has become since."""

    async def main() -> None:
        async with recording() as (url, heads):
            transport = StreamableHttpTransport(url, get_stream=False)
            await transport.start()
            made: list[tuple[bool, bool]] = []
            finish = transport.finish_request

            def spy(started: tuple[Any, ...], error: BaseException | None) -> Any:
                rid, method, params, stateless = started[6:]
                expected = request_peek(rid, method, params, stateless)
                assert started_peek(started) == expected
                transport.protocol_version = "2025-11-25" if stateless else "2026-07-28"  # (flipped)
                assert started_peek(started) == expected
                transport.protocol_version = "2026-07-28" if stateless else "2025-11-25"
                made.append((stateless, started[2] is not None))
                return finish(started, error)

            transport.finish_request = spy  # type: ignore[method-assign]
            sends = [
                ("2025-11-25", "ping", None),
                ("2025-11-25", "ping", None),
                ("2025-11-25", "tools/call", Call("one")),
                ("2025-11-25", "tools/call", Call("one")),
                ("2026-07-28", "tools/call", Call("one")),
                ("2026-07-28", "tools/call", Call("one")),
                ("2026-07-28", "tools/call", Read("r")),  # (no name: none in the peek either)
                ("2026-07-28", "resources/read", Read("r")),
                ("2026-07-28", "ping", None),
            ]
            try:  # (single-digit ids: the answers' lengths are counted with one)
                for rid, (revision, method, params) in enumerate(sends, 1):
                    transport.protocol_version = revision
                    # (the first with no idle connection yet: `write_request`'s)
                    assert await send(transport, rid, method, params) == (rid > 1)
            finally:
                await transport.close()
        assert len(heads) == len(sends)
        assert made == [
            (False, False),  # (the headers the first request's shaping made)
            (False, False),  # (stateful: every method's headers the same)
            (False, False),
            (True, True),  # (headers shaped: the peek made for them)
            (True, False),
            (True, True),  # (no name: headers shaped)
            (True, True),  # (a method other than tools/call: made as it is routed)
            (True, True),
        ]

    run(main())
