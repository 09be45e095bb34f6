"""Streamable HTTP against requests whose HTTP framing and fields are legal but unusual, written by hand
on raw loopback sockets (bytes no client library sends) to mcpbind's ASGI app under a real uvicorn
(tests/servers/http_extra.py in its own process): an empty body however it is framed, a list-based
field sent as several lines, a field that must come once sent twice, a JSON object that is no
message. Each gets the answer HTTP and JSON-RPC prescribe, and the server goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..http_support import BOTH, EXTRA, MODERN, by_hand, modern, open_session, serve


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(EXTRA) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def session_id(url: str) -> str:
    async def main() -> str:
        async with httpx.AsyncClient(timeout=10) as http:
            return (await open_session(http, url, "2025-11-25")).id

    return asyncio.run(asyncio.wait_for(main(), 30))


def exchange(url: str, head: list[tuple[str, str]], body: bytes = b"") -> tuple[int, Any]:
    """One POST written by hand (`head`: its fields in order, Host included; the framing of `body` is
    the caller's): its status and its JSON body (None if empty)."""
    status, content = by_hand(url, head, body)
    return status, json.loads(content) if content else None


def host(url: str) -> tuple[str, str]:
    return ("Host", url.split("//")[1].split("/")[0])


def stateless(url: str, rid: int) -> tuple[list[tuple[str, str]], bytes]:
    message = modern(rid, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
    head = [
        host(url),
        ("Accept", BOTH),
        ("Content-Type", "application/json"),
        ("MCP-Protocol-Version", MODERN),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "echo"),
    ]
    return head, json.dumps(message).encode()


def in_session(url: str, session_id: str) -> list[tuple[str, str]]:
    return [
        host(url),
        ("Accept", BOTH),
        ("Content-Type", "application/json"),
        ("Mcp-Session-Id", session_id),
        ("MCP-Protocol-Version", "2025-11-25"),
    ]


def served(url: str, session_id: str) -> None:
    head, body = stateless(url, 99)
    assert exchange(url, [*head, ("Content-Length", str(len(body)))], body)[0] == 200
    ping = b'{"jsonrpc":"2.0","id":98,"method":"ping"}'
    status, answer = exchange(url, [*in_session(url, session_id), ("Content-Length", str(len(ping)))], ping)
    assert (status, answer) == (200, {"jsonrpc": "2.0", "id": 98, "result": {}})


def test_an_empty_body_is_a_parse_error_however_it_is_framed(url: str, session_id: str) -> None:
    """An empty body with no `Content-Length` (a chunked body of no chunk, or a request with no body
    at all) was refused 413 "Payload Too Large: over 4194304 bytes", as a body over the limit: it is
    no JSON, -32700 with 400, as `Content-Length: 0` already was. (A chunked body over the limit is
    still 413: test_http.py's test_oversized_bodies_get_413.)"""
    framings = [
        [("Content-Length", "0")],
        [("Transfer-Encoding", "chunked")],  # the body: the last chunk alone
        [],  # no body at all
    ]
    stateless_head, _ = stateless(url, 1)
    for head in (in_session(url, session_id), stateless_head):
        for framing in framings:
            chunked = framing == [("Transfer-Encoding", "chunked")]
            status, answer = exchange(url, [*head, *framing], b"0\r\n\r\n" if chunked else b"")
            assert status == 400, (framing, answer)
            assert answer["error"]["code"] == -32700 and "id" not in answer, (framing, answer)
    served(url, session_id)


def test_accept_on_several_lines_is_one_accept(url: str, session_id: str) -> None:
    """Accept is a list-based field: a client may send its members on lines of their own, and the
    recipient reads them as one list (RFC 9110 5.3). Only the last line was read: a POST with
    `Accept: application/json` and `Accept: text/event-stream` on two lines got 406."""
    split = [("Accept", "application/json"), ("Accept", "text/event-stream")]
    head, body = stateless(url, 2)
    head = [field for field in head if field[0] != "Accept"]
    status, answer = exchange(url, [*head, *split, ("Content-Length", str(len(body)))], body)
    assert status == 200 and answer["result"]["content"] == [{"type": "text", "text": "x"}], answer
    ping = b'{"jsonrpc":"2.0","id":3,"method":"ping"}'
    head = [field for field in in_session(url, session_id) if field[0] != "Accept"]
    status, answer = exchange(url, [*head, *split, ("Content-Length", str(len(ping)))], ping)
    assert (status, answer) == (200, {"jsonrpc": "2.0", "id": 3, "result": {}})
    # Lines that together still lack one of the two are refused as one line lacking it would be.
    lacking = [("Accept", "application/json"), ("Accept", "application/json")]
    status, answer = exchange(url, [*head, *lacking, ("Content-Length", str(len(ping)))], ping)
    assert status == 406 and answer["error"]["code"] == -32600
    served(url, session_id)


def test_a_host_or_content_type_sent_twice_is_refused(url: str, session_id: str) -> None:
    """RFC 9112 3.2: a server "MUST respond with a 400 (Bad Request) status code ... to any request
    message that contains more than one Host header field line". Only the last Host was checked
    against the allowed hosts: a request naming another host first, then this one, was served. So
    was a body typed twice, `text/plain` then `application/json` (Content-Type is no list)."""
    head, body = stateless(url, 4)
    rest = [field for field in head if field[0] != "Host"]
    for hosts in ([("Host", "evil.example"), host(url)], [host(url), host(url)]):
        status, answer = exchange(url, [*hosts, *rest, ("Content-Length", str(len(body)))], body)
        assert status == 400, (hosts, answer)
        assert answer["error"]["code"] == -32600 and "host" in answer["error"]["message"], answer
    untyped = [field for field in head if field[0] != "Content-Type"]
    for types in (["text/plain", "application/json"], ["application/json"] * 2):
        typed = [("Content-Type", value) for value in types]
        status, answer = exchange(url, [*untyped, *typed, ("Content-Length", str(len(body)))], body)
        assert status == 400, (types, answer)
        assert "content-type" in answer["error"]["message"], answer
    served(url, session_id)


def test_an_object_that_is_no_message_and_names_no_request_is_refused(url: str, session_id: str) -> None:
    """`{}` or `{"jsonrpc": "2.0"}` is neither a request, a notification nor a response: over stdio
    it is answered -32600; POSTed on a session it was accepted with 202 (the transport: a server
    that "cannot accept the input ... MUST return an HTTP error status code"). Now 400 with the
    -32600 answer, on a session as on the stateless wire. An answer that is broken but names a
    request still goes on to it (test_hostile_unreadable_answer.py): accepted."""
    stateless_head, _ = stateless(url, 5)
    for head in (in_session(url, session_id), stateless_head):
        for body in (b"{}", b'{"jsonrpc":"2.0"}', b'{"jsonrpc":"2.0","params":{}}'):
            status, answer = exchange(url, [*head, ("Content-Length", str(len(body)))], body)
            assert status == 400, (head, body, answer)
            assert answer["error"]["code"] == -32600 and "id" not in answer, (body, answer)
    broken = b'{"jsonrpc":"2.0","id":"never-asked"}'
    head = [*in_session(url, session_id), ("Content-Length", str(len(broken)))]
    assert exchange(url, head, broken) == (202, None)
    served(url, session_id)
