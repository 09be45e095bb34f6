"""A request of the HTTP client's on an idle kept-alive connection (`HttpClient.post_idle`, taken by
`StreamableHttpTransport` with no exchange when the whole answer came with its head) ends as the same
request on a new connection does (the general way): the same message read, the same error, for every
kind of answer; what the short way does not take (a body still coming, a stream, a redirect) is
handed to the general way. A kept-alive connection the server closed as the request went out has the
request sent again once, on a new connection, as before.

Against a scripted HTTP/1.1 server on 127.0.0.1 (in process): each request is answered with the next
canned response (`#` standing for the request's id, one digit), and the connection each came on is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from mcpbind.transports.http.client import StreamableHttpTransport

CLOSE = b"close"
"""A canned response that is none: the connection is closed without a byte of answer."""


def answer(status: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 {status}\r\n{lines}content-length: {len(body)}\r\n\r\n".encode("latin-1") + body


def json_answer(body: bytes, status: str = "200 OK") -> bytes:
    return answer(status, {"content-type": "application/json"}, body)


RESULT = b'{"jsonrpc":"2.0","id":#,"result":{"ok":1}}'

CASES: dict[str, list[list[bytes]]] = {
    # (each request of a case takes the next entry: its parts written 0.1 s apart)
    "result": [[json_answer(RESULT)]],
    "result-charset": [[answer("200 OK", {"content-type": "Application/JSON; charset=utf-8"}, RESULT)]],
    "error": [[json_answer(b'{"jsonrpc":"2.0","id":#,"error":{"code":-32601,"message":"no"}}')]],
    "stray": [[json_answer(b'{"jsonrpc":"2.0","id":999,"result":{}}')]],
    "not-json": [[json_answer(b"<html>oops</html>")]],
    "non-ascii": [[json_answer('{"jsonrpc":"2.0","id":#,"result":{"x":"é"}}'.encode())]],
    "batch": [[json_answer(b'[{"jsonrpc":"2.0","id":#,"result":{}}]')]],
    "202": [[b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"]],
    "404": [[answer("404 Not Found", {"content-type": "text/plain"}, b"no such thing")]],
    "401": [[answer("401 Unauthorized", {"www-authenticate": 'Bearer realm="x"'}, b"")]],
    "500-empty": [[answer("500 Internal Server Error", {}, b"")]],
    "too-large": [[json_answer(b'{"jsonrpc":"2.0","id":#,"result":{"pad":"' + b"x" * 300 + b'"}}')]],
    "sse": [
        [
            answer(
                "200 OK",
                {"content-type": "text/event-stream"},
                b'event: message\ndata: {"jsonrpc":"2.0","id":#,"result":{"s":1}}\n\n',
            )
        ]
    ],
    "body-later": [[json_answer(RESULT)[:-5], json_answer(RESULT)[-5:]]],
    "redirect": [[answer("307 Temporary Redirect", {"location": "/elsewhere"}, b"")], [json_answer(RESULT)]],
}


class Script:
    """The server's answers, in order; the connection index of each request that came."""

    def __init__(self) -> None:
        self.answers: list[list[bytes]] = []
        self.seen: list[int] = []
        self.connections = 0


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length)
    return body


@asynccontextmanager
async def scripted() -> AsyncIterator[tuple[str, Script]]:
    script = Script()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = script.connections
        script.connections += 1
        try:
            while True:
                body = await read_request(reader)
                script.seen.append(index)
                rid = str(msgspec.json.decode(body)["id"]).encode()
                parts = script.answers.pop(0)
                if parts == [CLOSE]:
                    return
                for n, part in enumerate(parts):
                    if n:
                        await asyncio.sleep(0.1)
                    writer.write(part.replace(b"#", rid))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp", script
    finally:
        server.close()
        await server.wait_closed()


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))  # type: ignore[arg-type]


async def ping(transport: StreamableHttpTransport, rid: int) -> bytes | None:
    """One ping sent as the client sends its requests (`write_request`), and the message it brought."""
    data = b'{"jsonrpc":"2.0","id":%d,"method":"ping"}' % rid
    await transport.write_request(data, rid, "ping", None, 10.0)
    return await asyncio.wait_for(transport.read(), 10)


async def outcome(case: str, idle: bool) -> tuple[Any, list[int]]:
    """What a ping answered with `case` brings: on a new connection, or (`idle`) on a kept-alive one."""
    async with scripted() as (url, script):
        transport = StreamableHttpTransport(url, get_stream=False, max_message=256)
        await transport.start()
        transport.protocol_version = "2025-11-25"
        client = transport._client
        assert client is not None
        post_idle, short = client.post_idle, []

        def recording(*args: Any) -> Any:
            conn = post_idle(*args)
            short.append(conn is not None)
            return conn

        client.post_idle = recording  # type: ignore[method-assign]
        try:
            if idle:
                script.answers.append([json_answer(RESULT)])
                assert await ping(transport, 1) == RESULT.replace(b"#", b"1")
            script.answers.extend(CASES[case])
            message = await ping(transport, 7)
            assert short[-1] is idle  # (the short way taken on the kept-alive connection, only)
            found = msgspec.json.decode(message) if message is not None else None
            # The client goes on: the next request is answered (on whatever connection), after
            # whatever else the case's answer brought (a stray answer's body, say).
            script.answers.append([json_answer(RESULT)])
            rest = [await ping(transport, 8)]
            while rest[-1] != RESULT.replace(b"#", b"8"):
                assert len(rest) < 5, rest
                rest.append(await asyncio.wait_for(transport.read(), 10))
        finally:
            await transport.close()
        return (found, rest), script.seen


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_answer_on_an_idle_connection_ends_as_on_a_new_one(case: str) -> None:
    async def main() -> None:
        new, _ = await outcome(case, idle=False)
        kept, kept_seen = await outcome(case, idle=True)
        assert kept == new
        # The request of the case went on the warm-up's connection (the short way was taken).
        assert kept_seen[1] == kept_seen[0] == 0, kept_seen

    run(main())


def test_the_common_answer_is_delivered_as_read() -> None:
    async def main() -> None:
        (found, rest), _ = await outcome("result", idle=True)
        assert found == {"jsonrpc": "2.0", "id": 7, "result": {"ok": 1}} and len(rest) == 1
        (found, _), _ = await outcome("too-large", idle=True)
        assert found["id"] == 7 and "256 bytes" in found["error"]["message"]

    run(main())


@pytest.mark.parametrize("again", [False, True], ids=["then-answered", "closed-again"])
def test_a_kept_alive_connection_closed_as_the_request_went_out_is_replaced_once(again: bool) -> None:
    """The server closes the idle connection on the second request, with no byte of answer: the
    request goes again, once, on a new connection: answered there, or (closed there too) failed."""

    async def main() -> None:
        async with scripted() as (url, script):
            transport = StreamableHttpTransport(url, get_stream=False)
            await transport.start()
            transport.protocol_version = "2025-11-25"
            try:
                script.answers.append([json_answer(RESULT)])
                assert await ping(transport, 1) == RESULT.replace(b"#", b"1")
                script.answers.append([CLOSE])
                script.answers.append([CLOSE] if again else [json_answer(RESULT)])
                message = await ping(transport, 2)
                assert message is not None
                if again:
                    error = msgspec.json.decode(message)["error"]
                    assert "HTTP transport error" in error["message"]
                else:
                    assert message == RESULT.replace(b"#", b"2")
                assert script.seen == [0, 0, 1]  # sent twice, the second time on a new connection
            finally:
                await transport.close()

    run(main())


CALL_CASES: dict[str, bytes] = {
    "plain": b'{"jsonrpc":"2.0","id":#,"result":{"content":[{"type":"text","text":"x"}]}}',
    "typed-read-fails": b'{"jsonrpc":"2.0","id":#,"result":{"content":"no list"}}',
    "check-refuses": b'{"jsonrpc":"2.0","id":#,"result":{"content":[],"structuredContent":[1]}}',
    "other-member": b'{"jsonrpc":"2.0","id":#,"result":{"content":[]},"extra":1}',
    "error": b'{"jsonrpc":"2.0","id":#,"error":{"code":-32601,"message":"no"}}',
    "stray": b'{"jsonrpc":"2.0","id":999,"result":{"content":[]}}',
    "non-ascii": '{"jsonrpc":"2.0","id":#,"result":{"content":[{"type":"text","text":"é"}]}}'.encode(),
    "not-json": b'{"jsonrpc":"2.0","id":#,"result":{"content":[',
}


@pytest.mark.parametrize("case", sorted(CALL_CASES))
def test_a_call_answered_through_the_clients_one_pass_ends_as_through_two(case: str) -> None:
    """A POST's JSON body offered to the client's peer whole (`answer_to`: `answered_whole`, one
    pass) ends the call as the envelope's reading and then the result's do (the peer's one pass
    turned off): the same value, or the same error, on a new connection and on a kept-alive one."""
    from mcpbind.client.peer import ClientPeer
    from mcpbind.client.prepared import PREPARED, prepare

    key = ("2025-11-25", "tools/call", None, "CallToolResult")
    PREPARED.pop(key, None)
    prepared = prepare(*key)
    assert prepared is not None
    for _ in range(8):  # (its decoder that reads straight into the newest type: one with a one pass)
        prepared.decode(msgspec.Raw(b'{"content":[]}'))
    prepared = PREPARED[key]
    assert prepared is not None
    params = prepared.convert({"name": "echo"})

    async def call(one_pass: bool, idle: bool) -> Any:
        async def on_request(event: Any) -> bytes | None:
            return None

        async def on_notification(event: Any) -> None:
            return None

        async with scripted() as (url, script):
            transport = StreamableHttpTransport(url, get_stream=False)
            await transport.start()
            transport.protocol_version = "2025-11-25"
            peer = ClientPeer(transport, on_request=on_request, on_notification=on_notification)
            taken: list[bool] = []
            whole = peer.answered_whole

            def answered_whole(rid: Any, body: bytes) -> bool:
                taken.append(one_pass and whole(rid, body))
                return taken[-1]

            peer.answered_whole = answered_whole  # type: ignore[method-assign]
            transport.deliver_to(peer.feed)
            transport.answer_to(peer)
            reading = asyncio.ensure_future(peer.run())
            try:
                if idle:
                    script.answers.append([json_answer(CALL_CASES["plain"])])
                    await peer.request("tools/call", params, prepared.decode, timeout=5.0)
                script.answers.append([json_answer(CALL_CASES[case])])
                try:
                    value: Any = await peer.request("tools/call", params, prepared.decode, timeout=5.0)
                except Exception as exc:
                    value = (type(exc), str(exc), getattr(exc, "code", None))
            finally:
                await transport.close()
                reading.cancel()
            if one_pass:
                assert taken and taken[-1] is (case == "plain")
            return value

    async def main() -> None:
        for idle in (False, True):
            one, two = await call(True, idle), await call(False, idle)
            assert one == two and type(one) is type(two)

    run(main())
