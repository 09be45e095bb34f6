"""The HTTP/1.1 client under the Streamable HTTP transports, against real sockets on 127.0.0.1.

Each test starts an asyncio server that answers with exactly the bytes the case needs (split across
writes, chunked, cut short, never answered...), so that what the client does with each is pinned down.
The transports' behaviour against mcpbind's and the SDK's servers is covered by test_http, test_stdio
and the interop tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from mcpbind.transports.http.http11 import FixedHeaders, HttpClient, HttpError, Observed, ResponseTooLarge

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on a free loopback port; yields its URL and the count of connections it accepted."""
    accepted: list[int] = [0]

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted[0] += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp", accepted
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return head[0], headers, body


def echo_server(requests: int = 1000) -> Handler:
    """Answers each request on the connection with its own body, alternately by length and chunked."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for n in range(requests):
            _, _, body = await read_request(reader)
            if n % 2:
                writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                for i in range(0, len(body), 7):  # small chunks, each its own write
                    part = body[i : i + 7]
                    writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
            else:
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nX-Seen: yes\r\n\r\n%s" % (len(body), body)
                )
            await writer.drain()

    return handle


def test_requests_share_one_kept_alive_connection() -> None:
    async def main() -> None:
        async with serving(echo_server()) as (url, accepted):
            http = HttpClient()
            for i in range(20):
                body = f'{{"n": {i}, "pad": "{"x" * i}"}}'.encode()
                async with http.request("POST", url, {"content-type": "application/json"}, body) as r:
                    assert r.status == 200
                    assert await r.read() == body
            await http.close()
            assert accepted[0] == 1

    run(main())


def test_lines_come_whole_whatever_the_chunking() -> None:
    text = b"event: message\r\ndata: one\r\n\r\ndata: two\n\n: keep-alive\r\n\r\ndata: last"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        for i in range(0, len(text), 5):
            part = text[i : i + 5]
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
            await asyncio.sleep(0)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def main() -> None:
        async with serving(handle) as (url, _):
            http = HttpClient()
            async with http.request("GET", url, {"accept": "text/event-stream"}) as r:
                assert r.headers["content-type"] == "text/event-stream"
                lines = [line async for line in r.lines()]
            await http.close()
        assert b"".join(lines) == text
        assert lines[:2] == [b"event: message\r\n", b"data: one\r\n"]
        assert lines[-1] == b"data: last"

    run(main())


def test_a_body_larger_than_the_buffer_is_read_whole() -> None:
    big = bytes(range(256)) * (3 * 4096 + 17)  # about 3 MiB: reading pauses and resumes on the way

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(2):
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(big))
            writer.write(big)
            await writer.drain()

    async def main() -> None:
        async with serving(handle) as (url, _):
            http = HttpClient()
            async with http.request("POST", url, {}, b"{}") as r:
                assert await r.read() == big
            async with http.request("POST", url, {}, b"{}") as r:  # the same, as lines
                assert b"".join([line async for line in r.lines()]) == big
            await http.close()

    run(main())


def test_a_body_delimited_by_the_end_of_the_connection() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end")
        await writer.drain()

    async def main() -> None:
        async with serving(handle) as (url, accepted):
            http = HttpClient()
            for _ in range(2):  # the connection is not reused: each request opens its own
                async with http.request("POST", url, {}, b"{}") as r:
                    assert await r.read() == b"until the end"
            await http.close()
            assert accepted[0] == 2

    run(main())


def test_a_kept_alive_connection_the_server_closed_is_replaced() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, _, body = await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        # and then it closes: an idle keep-alive connection the server dropped

    async def main() -> None:
        async with serving(handle) as (url, accepted):
            http = HttpClient()
            for i in range(3):
                async with http.request("POST", url, {}, b"%d" % i) as r:
                    assert await r.read() == b"%d" % i
                await asyncio.sleep(0.05)
            await http.close()
            assert accepted[0] == 3

    run(main())


def test_failures_are_http_errors_or_timeouts_and_nothing_hangs() -> None:
    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
        await writer.drain()

    async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def main() -> None:
        http = HttpClient(read_timeout=0.3)
        async with serving(cut_short) as (url, _):
            async with http.request("POST", url, {}, b"{}") as r:
                with pytest.raises(HttpError, match="closed before the response was complete"):
                    await r.read()
        async with serving(not_http) as (url, _):
            with pytest.raises(HttpError, match="malformed HTTP response"):
                async with http.request("POST", url, {}, b"{}"):
                    pass
        async with serving(silent) as (url, _):
            with pytest.raises(TimeoutError):
                async with http.request("POST", url, {}, b"{}"):
                    pass
        async with serving(silent) as (url, _):
            dead = url
        with pytest.raises(HttpError, match="cannot connect"):
            async with http.request("POST", dead, {}, b"{}"):
                pass
        with pytest.raises(ValueError, match="invalid HTTP header"):
            async with http.request("POST", dead, {"x-evil": "a\r\nInjected: yes"}, b"{}"):
                pass
        with pytest.raises(ValueError, match="not an http"):
            async with http.request("POST", "ftp://127.0.0.1/", {}, b""):
                pass
        await http.close()

    run(main())


def test_close_ends_streams_still_being_read() -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        writer.write(b"8\r\ndata: 1\n\r\n")
        await writer.drain()
        await asyncio.sleep(10)

    async def main() -> None:
        async with serving(endless) as (url, _):
            http = HttpClient(read_timeout=None)
            got: list[bytes] = []

            async def listen() -> None:
                async with http.request("GET", url, {}) as r:
                    async for line in r.lines():
                        got.append(line)

            task = asyncio.ensure_future(listen())
            for _ in range(100):
                if got:
                    break
                await asyncio.sleep(0.01)
            await http.close()
            with pytest.raises(HttpError):
                await asyncio.wait_for(task, 5)
            assert got == [b"data: 1\n"]

    run(main())


def test_observe_sees_each_request_and_its_response_head() -> None:
    async def main() -> None:
        seen: list[Observed] = []
        async with serving(echo_server()) as (url, _):
            http = HttpClient(observe=seen.append)
            async with http.request("POST", url, {"mcp-method": "ping"}, b"{}") as r:
                await r.read()
            async with http.request("GET", url + "?x=1", {}) as r:
                await r.read()
            await http.close()
        post, get = seen
        assert post.method == "POST" and post.body == b"{}" and post.status == 200
        assert post.headers["mcp-method"] == "ping" and post.headers["content-length"] == "2"
        assert post.headers["host"] == url.split("/")[2]
        assert post.response_headers["x-seen"] == "yes"
        assert get.method == "GET" and "content-length" not in get.headers

    run(main())


def test_redirects_are_followed_and_credentials_stay_with_their_origin() -> None:
    async def main() -> None:
        seen: list[tuple[str, dict[str, str], bytes]] = []

        async def target(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                line, headers, body = await read_request(reader)
                seen.append((line, headers, body))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()

        async with serving(target) as (elsewhere, _):

            async def redirecting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                while True:
                    line, headers, body = await read_request(reader)
                    seen.append((line, headers, body))
                    path = line.split()[1]
                    if path == "/mcp":  # as a server mounted at /mcp/ answers
                        answer = (
                            b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /mcp/\r\ncontent-length: 0\r\n\r\n"
                        )
                    elif path == "/away":
                        answer = (
                            b"HTTP/1.1 308 Permanent Redirect\r\nlocation: %s\r\ncontent-length: 0\r\n\r\n"
                            % elsewhere.encode()
                        )
                    elif path == "/loop":
                        answer = (
                            b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /loop\r\ncontent-length: 0\r\n\r\n"
                        )
                    elif path == "/see-other":
                        answer = b"HTTP/1.1 303 See Other\r\nlocation: /mcp/\r\ncontent-length: 0\r\n\r\n"
                    else:
                        answer = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
                    writer.write(answer)
                    await writer.drain()

            async with serving(redirecting) as (url, accepted):
                base = url.rsplit("/", 1)[0]
                http = HttpClient()
                auth = {"authorization": "Bearer secret"}
                async with http.request("POST", url, auth, b'{"a": 1}') as r:
                    assert r.status == 200 and await r.read() == b'{"a": 1}'
                assert [s[0] for s in seen[-2:]] == ["POST /mcp HTTP/1.1", "POST /mcp/ HTTP/1.1"]
                assert seen[-1][1]["authorization"] == "Bearer secret"  # same origin: kept
                async with http.request("POST", base + "/away", auth, b"{}") as r:
                    assert r.status == 200
                assert seen[-1][0] == "POST /mcp HTTP/1.1" and "authorization" not in seen[-1][1]
                async with http.request("POST", base + "/see-other", {}, b"{}") as r:
                    assert r.status == 303  # a POST is not turned into a GET
                    await r.read()
                with pytest.raises(HttpError, match="more than 5 redirects"):
                    async with http.request("POST", base + "/loop", {}, b"{}"):
                        pass
                await http.close()
                assert accepted[0] == 1  # every hop on the same origin took the same connection

    run(main())


def test_https_with_a_trusted_certificate(tmp_path: Any) -> None:
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        timeout=60,
    )
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {made.stderr.decode()[-300:]}")
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))

    async def main() -> None:
        server = await asyncio.start_server(echo_server(), "127.0.0.1", 0, ssl=server_side)
        port = server.sockets[0].getsockname()[1]
        try:
            http = HttpClient(ssl_context=trusting)
            for i in range(3):
                async with http.request("POST", f"https://127.0.0.1:{port}/mcp", {}, b"%d" % i) as r:
                    assert r.status == 200 and await r.read() == b"%d" % i
            await http.close()
            untrusting = HttpClient()  # the default trust store does not know this certificate
            with pytest.raises(HttpError, match="cannot connect"):
                async with untrusting.request("POST", f"https://127.0.0.1:{port}/mcp", {}, b"{}"):
                    pass
            await untrusting.close()
        finally:
            server.close()

    run(main())


@pytest.mark.parametrize("reader", ["lines", "chunks"])
def test_body_that_comes_while_the_reader_is_busy_is_not_lost(reader: str) -> None:
    """The rest of a body, and its end, arrive while the caller is still handling an earlier piece:
    both `lines()` and `chunks()` hand over that rest before they end."""
    sent = asyncio.Event()

    async def handle(reader_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader_)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        writer.write(b"6\r\nfirst\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(b"4\r\nlast\r\n0\r\n\r\n")
        await writer.drain()
        sent.set()

    async def main() -> None:
        async with serving(handle) as (url, _):
            http = HttpClient()
            pieces: list[bytes] = []
            async with http.request("POST", url, {}, b"{}") as r:
                async for piece in r.lines() if reader == "lines" else r.chunks():
                    pieces.append(piece)
                    if len(pieces) == 1:
                        await sent.wait()  # the rest and the end of the body come in meanwhile
                        await asyncio.sleep(0.1)
            await http.close()
        assert b"".join(pieces) == b"first\nlast"

    run(main())


def test_a_head_made_once_serves_each_request_with_its_own_length() -> None:
    async def main() -> None:
        got: list[tuple[str, dict[str, str], bytes]] = []

        async def recording(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                line, headers, body = await read_request(reader)
                got.append((line, headers, body))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()

        async with serving(recording) as (url, _):
            http = HttpClient()
            same = {"mcp-method": "ping"}
            for body in (b"{}", b'{"a":1}', b""):
                async with http.request("POST", url, same, body) as r:
                    await r.read()
            # A Host or Content-Length of the caller's takes the place of the client's own.
            async with http.request("POST", url, {"host": "example", "content-length": "99"}, b"xyz") as r:
                await r.read()
            async with http.request("GET", url, {"content-length": "0"}) as r:
                await r.read()
            await http.close()
        assert [(h["content-length"], b) for _, h, b in got[:3]] == [
            ("2", b"{}"),
            ("7", b'{"a":1}'),
            ("0", b""),
        ]
        assert all(h["mcp-method"] == "ping" for _, h, _ in got[:3])
        _, headers, body = got[3]
        assert headers["host"] == "example" and headers["content-length"] == "3" and body == b"xyz"
        assert got[4][0].startswith("GET ") and got[4][1]["content-length"] == "0"

    run(main())


def test_a_headers_dict_changed_in_place_or_made_anew_sends_what_it_holds_now() -> None:
    """Heads are kept per headers dict sent again: one changed between requests (or a new dict where
    a freed one was) must not be sent with a head rendered from what it held before."""

    async def main() -> None:
        got: list[dict[str, str]] = []

        async def recording(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                _, headers, _ = await read_request(reader)
                got.append(headers)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()

        async with serving(recording) as (url, _):
            http = HttpClient()
            same = {"mcp-method": "ping"}
            for step in range(3):
                async with http.request("POST", url, same, b"{}") as r:
                    await r.read()
                same["mcp-method"] = f"changed-{step}"
                same[f"x-step-{step}"] = "yes"
            for step in range(20):  # new dicts, freed at once: ids come round again
                async with http.request("POST", url, {"mcp-method": f"fresh-{step}"}, b"{}") as r:
                    await r.read()
            await http.close()
        assert [h["mcp-method"] for h in got[:3]] == ["ping", "changed-0", "changed-1"]
        assert "x-step-0" not in got[0] and got[1]["x-step-0"] == "yes" and "x-step-1" not in got[1]
        assert [h["mcp-method"] for h in got[3:]] == [f"fresh-{step}" for step in range(20)]

    run(main())


@pytest.mark.parametrize(("lines", "over"), [(300, "256 headers"), (40, "65536 bytes of headers")])
def test_a_head_over_the_limits_fails_at_once_even_if_it_never_ends(lines: int, over: str) -> None:
    """A head that stalls half-way, once over a limit, fails as soon as that much of it is read, not
    at the request's timeout."""

    async def main() -> None:
        async def stalling(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            pad = b"y" * (10 if lines == 300 else 2000)
            writer.write(
                b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-pad-%d: %s\r\n" % (n, pad) for n in range(lines))
            )
            await writer.drain()
            await asyncio.sleep(60)  # the head never ends

        async with serving(stalling) as (url, _):
            http = HttpClient(max_header_bytes=64 * 1024, max_headers=256, read_timeout=60)
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(ResponseTooLarge, match=over):
                async with http.request("POST", url, {}, b"{}"):
                    pass
            assert loop.time() - started < 20  # not the read timeout (60 s)
            await http.close()

    run(main())


def test_interim_responses_before_the_answer_are_skipped() -> None:
    """A server (or a proxy in front of it) may send 100 Continue or 103 Early Hints before its answer;
    the client reads the answer after them, and the connection stays usable."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(3):
            _, _, body = await read_request(reader)
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
            writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nX-Seen: yes\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()

    async def main() -> None:
        async with serving(handle) as (url, accepted):
            http = HttpClient()
            for i in range(3):
                body = b'{"n": %d}' % i
                async with http.request("POST", url, {"content-type": "application/json"}, body) as r:
                    assert r.status == 200 and r.headers.get("x-seen") == "yes"
                    assert "link" not in r.headers
                    assert await r.read() == body
            await http.close()
            assert accepted[0] == 1

    run(main())


def test_a_post_on_an_idle_connection_sends_the_bytes_the_general_way_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`post_idle` writes its `content-length` line from a table of lines by length (`_LENGTH_LINES`):
    each request's bytes are those `request` sends for the same headers and body, whether its length's
    line is made then, found made, or (the table full) made for it alone."""
    from mcpbind.transports.http import http11

    monkeypatch.setattr(http11, "_LENGTH_LINES", {})
    monkeypatch.setattr(http11, "_MAX_LENGTH_LINES", 3)

    async def main() -> None:
        got: list[bytes] = []

        async def recording(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                got.append(head + await reader.readexactly(length))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()

        bodies = [b"{}", b"{}", b'{"a":1}', b"", b'{"a":1}', b"x" * 12345, b"[1]", b"{}", b"x" * 12345]
        async with serving(recording) as (url, _):
            http = HttpClient()
            headers = FixedHeaders({"content-type": "application/json", "mcp-method": "ping"})
            for body in bodies:  # the general way, each on the connection it gives back
                async with http.request("POST", url, headers, body) as r:
                    await r.read()
            general, got[:] = got[:], []
            for body in bodies:
                conn = http.post_idle(url, headers, body, 10.0)
                assert conn is not None  # (the short way: on the connection the general way kept)
                while not conn.complete:
                    await conn.waiting(10.0)
                http.done_with(conn, True)
            await http.close()
        assert got == general
        assert set(http11._LENGTH_LINES) == {2, 7, 0}  # (the first three lengths; the rest made alone)

    run(main())
