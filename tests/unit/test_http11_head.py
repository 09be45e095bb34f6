"""How the HTTP/1.1 client connection reads a response's head and wakes its reader (no sockets: the
bytes are put in its read buffer as the event loop would, and `buffer_updated` is called)."""

from __future__ import annotations

import asyncio

import pytest

from mcpbind.transports.http.connection11 import Http11Connection, HttpError, Response, ResponseTooLarge


def feed(conn: Http11Connection, data: bytes) -> None:
    conn.buffer[: len(data)] = data
    conn.buffer_updated(len(data))


def answer(headers: list[tuple[str, str]], body: bytes = b"{}") -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"HTTP/1.1 200 OK\r\n{lines}content-length: {len(body)}\r\n\r\n".encode("latin-1") + body


def test_names_are_read_in_lower_case_however_many_distinct_ones_a_server_makes_up() -> None:
    """Names are remembered read (a bounded number of them): what a response's headers hold is the
    same for the first answer, the thousandth, names over the bound and names too long to keep."""
    conn = Http11Connection(1 << 20, 256)
    long = "X-" + "Long" * 40
    for n in range(1000):
        conn.reset()
        sent = [(f"X-Made-Up-{n}", f"v{n}"), ("Content-Type", "application/json"), (long, str(n))]
        feed(conn, answer(sent, b"[%d]" % n))
        assert conn.complete and conn.keep_alive
        assert conn.headers == {
            f"x-made-up-{n}": f"v{n}",
            "content-type": "application/json",
            long.lower(): str(n),
            "content-length": str(len(b"[%d]" % n)),
        }
        assert conn.take() == b"[%d]" % n


def test_repeated_headers_are_joined_in_the_order_sent() -> None:
    conn = Http11Connection(1 << 20, 256)
    feed(conn, answer([("Vary", "a"), ("X-One", "1"), ("vary", "b"), ("VARY", "c")]))
    assert conn.headers["vary"] == "a, b, c" and conn.headers["x-one"] == "1"


def test_values_are_kept_as_read_and_decoded_as_latin_1_when_the_headers_are_asked_for() -> None:
    """`fields` holds the values' bytes (what the client's usual answer reads); `headers`, and a
    `Response`'s, the same decoded, every byte a character (a repeated header's joined first)."""
    conn = Http11Connection(1 << 20, 256)
    feed(conn, answer([("X-Name", "caf\u00e9 \u00ff"), ("Vary", "\u00e0"), ("vary", "b")]))
    assert conn.fields["x-name"] == b"caf\xe9 \xff" and conn.fields["vary"] == b"\xe0, b"
    assert conn.headers == {"x-name": "caf\u00e9 \u00ff", "vary": "\u00e0, b", "content-length": "2"}
    assert Response(conn, None, 100, 100).headers == conn.headers


def test_a_whole_answer_in_one_read_wakes_its_reader_once_with_everything_read() -> None:
    """Woken once the read is parsed, not at the head (whose reader would find the body unread)."""

    async def main() -> None:
        conn = Http11Connection(1 << 20, 256)
        conn.reset()
        woken: list[tuple[bool, bool, int]] = []

        class Recording(asyncio.Future[None]):
            def set_result(self, result: None) -> None:
                woken.append((conn.head_done, conn.complete, conn.status))
                super().set_result(result)

        conn.waiter = Recording()
        feed(conn, answer([("Content-Type", "application/json")], b'{"ok":true}'))
        assert woken == [(True, True, 200)]
        response = Response(conn, None, 1 << 20, 1 << 20)
        assert response.read_nowait() == b'{"ok":true}'

    asyncio.run(main())


@pytest.mark.parametrize("split", [False, True])
def test_a_head_read_before_a_malformed_body_still_reaches_its_reader(split: bool) -> None:
    """The head is the reader's (woken with it), the error that follows fails the body's reading."""

    async def main() -> None:
        conn = Http11Connection(1 << 20, 256)
        conn.reset()
        head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        waiting = asyncio.ensure_future(conn.wait(None))
        await asyncio.sleep(0)
        if split:
            feed(conn, head)
            await waiting
            waiting = asyncio.ensure_future(conn.wait(None))
            await asyncio.sleep(0)
            feed(conn, b"zz\r\nbad\r\n")
            with pytest.raises(HttpError, match="malformed"):
                await waiting
        else:
            feed(conn, head + b"zz\r\nbad\r\n")
            await waiting  # the head came first: its reader has it
            assert conn.head_done and conn.status == 200
            with pytest.raises(HttpError, match="malformed"):
                await conn.wait(None)

    asyncio.run(main())


@pytest.mark.parametrize(
    "interim", [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"]
)
@pytest.mark.parametrize("split", [False, True])
def test_an_interim_response_is_skipped_and_the_answer_after_it_read(interim: bytes, split: bool) -> None:
    """A 1xx response before the answer (100 Continue, 103 Early Hints) was taken for the answer: its
    status returned and the real answer's headers added to its own. Now it is skipped, whether it comes
    in the same read as the answer or in one of its own."""
    conn = Http11Connection(1 << 20, 256)
    whole = answer([("Content-Type", "application/json")], b'{"ok":true}')
    if split:
        feed(conn, interim)
        assert not conn.head_done and not conn.complete
        feed(conn, whole)
    else:
        feed(conn, interim + whole)
    assert conn.status == 200 and conn.complete and conn.keep_alive
    assert conn.headers == {"content-type": "application/json", "content-length": "11"}
    assert conn.take() == b'{"ok":true}'


def test_interim_responses_without_end_are_bounded_by_the_head_limit() -> None:
    """A server that sends interim responses for ever fills no memory: they count against the head."""
    conn = Http11Connection(4096, 16)
    for _ in range(200):
        if conn.error is not None:
            break
        feed(conn, b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
    assert conn.error is not None and "exceeds the limit" in str(conn.error)


HEAD_CASES = [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Odd:   a: b \t\r\nX-Empty:\r\n"
    b"Mcp-Session-Id: s1\r\nvary: a\r\nVary: b\r\ncontent-length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
    b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nX-A:\tb\r\ncontent-length: 2\r\n\r\n{}",
]
HEAD_EXPECTED = [
    {
        "content-type": "application/json",
        "x-odd": "a: b \t",  # (leading white space is no part of a value; llhttp keeps the trailing)
        "x-empty": "",
        "mcp-session-id": "s1",
        "vary": "a, b",
        "content-length": "2",
    },
    {"content-length": "2"},
    {"x-a": "b", "content-length": "2"},
]


@pytest.mark.parametrize(("whole", "expected"), list(zip(HEAD_CASES, HEAD_EXPECTED, strict=True)))
def test_a_head_reads_the_same_however_its_reads_split_it(whole: bytes, expected: dict[str, str]) -> None:
    """The header lines are read off the bytes llhttp accepted: a head in one read, in two split at
    any byte, or a byte a read, gives the same headers."""
    splits: list[list[bytes]] = [[whole], [whole[i : i + 1] for i in range(len(whole))]]
    splits += [[whole[:i], whole[i:]] for i in range(1, len(whole))]
    for reads in splits:
        conn = Http11Connection(1 << 20, 256)
        for data in reads:
            feed(conn, data)
        assert conn.error is None, reads
        assert conn.status == 200 and conn.complete and conn.keep_alive, reads
        assert conn.headers == expected, reads
        assert conn.take() == b"{}"


@pytest.mark.parametrize("split", [False, True])
def test_the_limits_count_headers_in_the_order_sent(split: bool) -> None:
    """Whichever limit a head passes first names the error, in one read or a line a read."""
    for lines, pad, over in ((20, b"y", "16 headers"), (20, b"y" * 100, "1000 bytes")):
        conn = Http11Connection(1000, 16)
        conn.reset()
        head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-%d: %s\r\n" % (n, pad) for n in range(lines))
        reads = [head] if not split else [line + b"\r\n" for line in head.split(b"\r\n")[:-1]]
        for data in reads:
            if conn.closed:
                break
            feed(conn, data)
        assert conn.error is not None and over in str(conn.error)
        assert conn.closed


def reads_of(whole: bytes) -> list[list[bytes]]:
    """`whole` in one read, a byte a read, and in two reads split at every byte."""
    splits: list[list[bytes]] = [[whole], [whole[i : i + 1] for i in range(len(whole))]]
    return splits + [[whole[:i], whole[i:]] for i in range(1, len(whole))]


def outcome(
    reads: list[bytes], max_header_bytes: int = 1 << 20, max_headers: int = 256, counted: bool = False
) -> tuple[object, ...]:
    """What a connection makes of `reads`: everything a reader or the pool can see of it. `counted`:
    every header counted against the limits as it is read (none read uncounted first)."""
    conn = Http11Connection(max_header_bytes, max_headers)
    if counted:
        conn.unchecked_bytes = 0
    for data in reads:
        if conn.closed:
            break
        feed(conn, data)
    body = conn.take() if conn.body else b""
    error = None if conn.error is None else (type(conn.error), str(conn.error))
    state = (conn.head_done, conn.complete, conn.keep_alive, conn.closed, conn.reusable())
    return (conn.status, conn.headers, body, error, *state)


UVICORN_ANSWER = (
    b"HTTP/1.1 200 OK\r\ndate: Mon, 07 Dec 2026 12:00:00 GMT\r\nserver: uvicorn\r\n"
    b"content-type: application/json\r\nmcp-session-id: 0f3c2a\r\ncontent-length: 36\r\n\r\n"
    b'{"jsonrpc":"2.0","id":1,"result":{}}'
)

ANSWERS = [
    UVICORN_ANSWER,
    b"HTTP/1.1 200 OK\r\n\r\n{}",  # no header: the body ends with the connection
    b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="x", error="invalid_token"\r\n'
    b"content-length: 0\r\n\r\n",
    b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /mcp/\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain;charset=ISO-8859-1\r\nX-L: \xe9\xff\r\n"
    b"Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nA:\r\nB: \t \r\nC:x  \r\nD: a\tb\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
    b"\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
]
"""Answers read the same in one read as over several (a chunked one with a trailer, which its
headers take; a repeated header, joined; an interim response, skipped)."""

NOT_ALONE = [
    # an answer and, in the same read, another message whole or begun: the answer stands, alone
    UVICORN_ANSWER + b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
    UVICORN_ANSWER + b"HTTP/1.1 200 OK\r\nX-A: b\r\n",
    UVICORN_ANSWER + b"HTTP/1.1 2",
    UVICORN_ANSWER + b"junk",
]

REFUSED = [
    b"HTTP/1.1 200 OK\r\nA : x\r\ncontent-length: 0\r\n\r\n",  # space before the colon
    b"HTTP/1.1 200 OK\r\n A: x\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: x\r\n  folded\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: x\r\n\tfolded: y\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: x\ncontent-length: 0\r\n\r\n",  # a bare LF
    b"HTTP/1.1 200 OK\r\nA: x\ry\r\ncontent-length: 0\r\n\r\n",  # a bare CR
    b"HTTP/1.1 200 OK\nA: x\ncontent-length: 0\n\n",
    b"HTTP/1.1 200 OK\r\nA: a\x01b\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA\x00: b\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n: b\r\ncontent-length: 0\r\n\r\n",  # no name
    b"HTTP/1.1 200 OK\r\nNo-Colon\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/9 200 OK\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n{}",
    b"GET / HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
    # over a limit (5 headers, 100 bytes), and malformed after it
    b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-%d: y\r\n" % n for n in range(6)) + b"A : x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nx: " + b"y" * 120 + b"\r\nA : x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-%d: y\r\n" % n for n in range(6)) + b"\r\n",
    b"HTTP/1.1 200 OK\r\nx: " + b"y" * 120 + b"\r\n\r\n",
]
"""Heads llhttp refuses, or over the limits `outcome` is given (5 headers, 100 bytes)."""


@pytest.mark.parametrize("whole", ANSWERS)
def test_an_answer_reads_the_same_in_one_read_as_over_several(whole: bytes) -> None:
    """Status, headers, body, end and reuse, whatever the split (a byte a read, two reads anywhere)."""
    expected = outcome([whole])
    assert expected[3] is None and expected[0] in (101, 200, 202, 307, 401, 404), expected
    for reads in reads_of(whole)[1:]:
        assert outcome(reads) == expected, reads


@pytest.mark.parametrize("whole", NOT_ALONE)
def test_an_answer_with_more_after_it_stands_alone_at_every_split(whole: bytes) -> None:
    """Whatever follows the answer, in its read or a later one: the answer as its length framed it,
    and a connection that is not used again."""
    expected = outcome([UVICORN_ANSWER])
    for reads in reads_of(whole):
        got = outcome(reads)
        assert got[:3] == expected[:3] and got[5] and not got[8], reads


@pytest.mark.parametrize("whole", REFUSED)
def test_a_refused_head_fails_and_closes_its_connection_at_every_split(whole: bytes) -> None:
    for reads in reads_of(whole):
        got = outcome(reads, 100, 5)
        assert got[3] is not None and not got[4] and got[7] and not got[8], reads


def test_a_head_at_the_limits_is_read_and_one_past_them_refused() -> None:
    """Exactly as many headers and header bytes (names and values) as allowed: no error."""
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-%d: %s\r\n" % (n, b"v" * 10) for n in range(4))
    whole = head + b"content-length: 0\r\n\r\n"
    size = sum(len(f"x-{n}") + 10 for n in range(4)) + len("content-length") + 1
    got = outcome([whole], size, 5)
    assert got[3] is None and got[5] and got[8], got
    bytes_over = f"the response head exceeds the limit of {size - 1} bytes of headers"
    assert outcome([whole], size - 1, 5)[3] == (ResponseTooLarge, bytes_over)
    count_over = "the response head exceeds the limit of 4 headers"
    assert outcome([whole], size, 4)[3] == (ResponseTooLarge, count_over)


LIMITS = [(1 << 20, 256), (100, 5), (150, 64), (400, 8), (60, 40), (30, 2), (1000, 10)]
"""Limits (header bytes, headers) under which a head may be read uncounted for all, some or none of
its bytes (`Http11Connection.unchecked_bytes`: the smaller of the bytes and 4 bytes a header)."""


OVER_WITH_SOME_UNCOUNTED = [
    # (1000 bytes, 10 headers: the first 40 bytes read uncounted) a header repeated in them, then
    # the headers that take the head over 10 (or to it)
    b"HTTP/1.1 200 OK\r\n" + b"v: a\r\n" * 6 + b"x: y\r\n" * 4 + b"content-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"v: a\r\n" * 6 + b"x: y\r\n" * 3 + b"content-length: 0\r\n\r\n",
    # an interim head all in them, whose headers count against the answer's
    b"HTTP/1.1 103 E\r\nL: a\r\nL: b\r\n\r\nHTTP/1.1 200 OK\r\n"
    + b"x: y\r\n" * 8
    + b"content-length: 0\r\n\r\n",
    b"HTTP/1.1 103 E\r\nL: a\r\nL: b\r\n\r\nHTTP/1.1 200 OK\r\n"
    + b"x: y\r\n" * 7
    + b"content-length: 0\r\n\r\n",
]


def test_the_cases_over_a_limit_after_uncounted_headers_are_over_it_when_counted() -> None:
    over = [outcome([whole], 1000, 10, counted=True)[3] for whole in OVER_WITH_SOME_UNCOUNTED]
    assert over[0] == over[2] == (ResponseTooLarge, "the response head exceeds the limit of 10 headers")
    assert over[1] is None and over[3] is None


@pytest.mark.parametrize("whole", ANSWERS + NOT_ALONE + REFUSED + OVER_WITH_SOME_UNCOUNTED)
def test_headers_read_uncounted_end_as_if_each_was_counted(whole: bytes) -> None:
    """A head read uncounted while its bytes cannot go over a limit, then counted: the same headers,
    errors (which limit, at which header) and state as counting every header as it comes, whatever
    the split and the limits (an interim head's headers, trailers, a message after the answer)."""
    for max_header_bytes, max_headers in LIMITS:
        for reads in reads_of(whole):
            got = outcome(reads, max_header_bytes, max_headers)
            assert got == outcome(reads, max_header_bytes, max_headers, counted=True), reads


def test_a_small_head_is_read_uncounted_and_a_longer_one_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    recounts: list[int] = []
    recount = Http11Connection._recount

    def counting(conn: Http11Connection) -> None:
        recounts.append(len(conn.fields))
        recount(conn)

    monkeypatch.setattr(Http11Connection, "_recount", counting)
    conn = Http11Connection(1 << 20, 256)
    feed(conn, UVICORN_ANSWER)
    assert conn.complete and recounts == []
    assert conn.headers_left == -1  # (counted from the answer's end: a header after it is refused)
    long_head = answer([(f"x-{n}", "v" * 40) for n in range(30)])
    assert len(long_head) > 1100  # (longer than 4 bytes for each of 256 headers)
    conn = Http11Connection(1 << 20, 256)
    feed(conn, long_head[:1100])
    assert recounts == [0]  # (a read that long may hold too many: counted from its start)
    feed(conn, long_head[1100:])
    assert conn.complete and len(conn.headers) == 31 and recounts == [0]
    conn = Http11Connection(1 << 20, 256)
    for data in (long_head[:200], long_head[200:1100], long_head[1100:]):
        feed(conn, data)
    assert conn.complete and len(conn.headers) == 31
    assert recounts[:1] == [0] and len(recounts) == 2 and recounts[1] > 0  # (those read uncounted first)
