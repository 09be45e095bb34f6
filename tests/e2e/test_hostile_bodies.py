"""Request bodies that never come in full, against mcpbind's ASGI app under a real uvicorn on loopback:
a client that sends its headers and then its body a byte at a time (slowloris), or less than its
`Content-Length` and then nothing, is answered 408 once `HttpSecurity.body_timeout` has passed and its
connection closed, rather than holding its request (and what it sent) for good; bodies being read at
once are bounded (`max_body_reads`), and other clients are served all along."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp, HttpSecurity

from ..http_support import modern, modern_headers, serve_in_process

TIMEOUT = 1.0


def _app(max_body_reads: int = 1024) -> HttpApp:
    server = Server("bodies", "1.0.0")

    @server.tool()
    def echo(text: str) -> str:
        """Say `text` back."""
        return text

    security = HttpSecurity(body_timeout=TIMEOUT, max_body_reads=max_body_reads)
    return HttpApp(server, security=security)


@pytest.fixture
def served() -> Iterator[tuple[HttpApp, str]]:
    app = _app(max_body_reads=3)
    with serve_in_process(app) as url:
        yield app, url


def _call() -> tuple[bytes, dict[str, str]]:
    message = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "hi"}})
    return json.dumps(message).encode(), {**modern_headers(message), "Content-Type": "application/json"}


def _open(url: str, body: bytes, headers: dict[str, str], claimed: int | None = None) -> socket.socket:
    """A POST whose head says `claimed` bytes of body (`len(body)` if None), with `body` not sent yet."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    head = ["POST /mcp HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {claimed or len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    return sock


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of the answer read to the connection's end (the server closes it)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2]


def _served_meanwhile(url: str) -> None:
    body, headers = _call()
    response = httpx.post(url, content=body, headers=headers, timeout=10)
    assert response.status_code == 200 and response.json()["result"]["content"][0]["text"] == "hi"


def test_a_body_that_stalls_short_of_its_length_gets_408(served: tuple[HttpApp, str]) -> None:
    """`Content-Length` says more than is sent, then nothing: uvicorn hands the app the request and its
    `receive()` waited for the rest for ever (the request, its bytes and its place held). Now 408 with
    a JSON-RPC error at the deadline, the connection closed, and the app holds no read."""
    app, url = served
    body, headers = _call()
    with _open(url, body, headers, claimed=len(body) + 100) as sock:
        sock.sendall(body)
        started = time.monotonic()
        _served_meanwhile(url)
        status, answer = _answer(sock)
        waited = time.monotonic() - started
    assert status == 408, answer
    assert json.loads(answer)["error"]["code"] == -32600
    assert TIMEOUT * 0.5 <= waited < TIMEOUT + 5, waited
    assert app.reads.reading == 0


def test_a_body_sent_a_byte_at_a_time_gets_408_at_its_deadline(served: tuple[HttpApp, str]) -> None:
    """Slowloris: every byte comes before any per-read timeout would fire, so only a deadline on the
    whole body ends it. The body keeps coming past the deadline; the answer is 408 all the same."""
    app, url = served
    body, headers = _call()
    with _open(url, body, headers) as sock:
        started = time.monotonic()
        for byte in body[: int(TIMEOUT * 10 + 10)]:  # (longer than the deadline, bounded)
            # A byte each 0.1 s, until the answer (or the close) comes: no byte is sent after it,
            # which the server's kernel would answer with a reset, losing the answer on the way.
            if select.select([sock], [], [], 0.1)[0]:
                break
            sock.sendall(bytes([byte]))
        status, answer = _answer(sock)
        waited = time.monotonic() - started
    assert status == 408, answer
    assert waited < TIMEOUT + 5, waited
    assert app.reads.reading == 0


def test_bodies_being_read_at_once_are_bounded(served: tuple[HttpApp, str]) -> None:
    """Three stalled bodies (the test's `max_body_reads`) are all the app waits for: a fourth body that
    is not all there is refused at once with 503 (a body there with its head waits for nothing, and is
    read whatever the count); once the stalled ones have had their 408, bodies are read again."""
    app, url = served
    body, headers = _call()
    stalled = [_open(url, body, headers, claimed=len(body) + 1) for _ in range(3)]
    try:
        deadline = time.monotonic() + 5
        while app.reads.reading < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert app.reads.reading == 3
        with _open(url, body, headers, claimed=len(body) + 1) as sock:
            status, answer = _first_answer(sock)
        assert status == 503, answer
        for sock in stalled:
            assert _answer(sock)[0] == 408
    finally:
        for sock in stalled:
            sock.close()
    assert app.reads.reading == 0
    with _open(url, body, headers) as sock:
        time.sleep(0.2)  # the head alone first: the body is read by waiting for it
        sock.sendall(body)
        status, answer = _first_answer(sock)
    assert status == 200, answer


def _first_answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of the first answer on a connection that stays open (by its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    fields = dict(line.lower().split(b":", 1) for line in head.split(b"\r\n")[1:])
    length = int(fields[b"content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, rest
        rest += chunk
    return int(head.split(b" ", 2)[1]), rest[:length]


def test_the_defaults() -> None:
    """A body has 30 s by default, and a thousand may be read at once."""
    security = HttpSecurity()
    assert security.body_timeout == 30.0 and security.max_body_reads == 1024


def test_a_body_that_comes_after_its_head_within_the_deadline_is_answered(
    served: tuple[HttpApp, str],
) -> None:
    """The head first, the body a moment later (the first `receive()` has to wait): answered, with
    the body read as a whole, and no read left held."""
    app, url = served
    body, headers = _call()
    with _open(url, body, {**headers, "Connection": "close"}) as sock:
        time.sleep(TIMEOUT / 4)
        sock.sendall(body[:10])
        time.sleep(TIMEOUT / 10)
        sock.sendall(body[10:])
        status, answer = _answer(sock)
    assert status == 200, answer
    assert json.loads(answer)["result"]["content"][0]["text"] == "hi"
    assert app.reads.reading == 0
