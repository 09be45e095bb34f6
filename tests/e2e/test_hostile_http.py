"""Streamable HTTP against hostile or careless clients: every bad request gets a clear HTTP error with a
JSON-RPC error body, nothing waits forever, memory stays bounded, and one user's state is no other's.

The server is mcpbind's ASGI app under a real uvicorn on loopback (tests/servers/http_extra.py in a
subprocess, or in a thread of this process where a test looks inside the app). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import weakref
from collections.abc import Awaitable, Iterator
from typing import Any

import httpx
import pytest

from mcpbind.protocol import revisions
from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpApp, HttpSecurity

from ..http_support import (
    BOTH,
    EXTRA,
    MODERN,
    by_hand,
    call,
    error_of,
    initialize,
    load_script,
    messages_of,
    modern,
    modern_headers,
    open_session,
    request,
    serve,
    serve_in_process,
)

STATEFUL = list(revisions.STATEFUL)


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(EXTRA, "--keepalive", "0.05") as endpoint:
        yield endpoint


def _extra() -> Any:
    return load_script(EXTRA, "mcpbind_tests_http_extra")


def raw_post(url: str, body: bytes, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    """One POST written by hand (repeated headers, bytes no client library sends), answer read whole."""
    host = url.split("//")[1].split("/")[0]
    return by_hand(url, [("Host", host), ("Content-Length", str(len(body))), *headers], body)


# -- decoding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_params_get_400_not_500(url: str, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth

    async def main() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-11-25")
            stateless = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
            targets = [
                (modern_headers(stateless), b"echo"),  # the one-pass decoder's route
                ({"accept": BOTH, "mcp-protocol-version": MODERN}, b"echo"),  # the general route
                (session.headers(), b"echo"),  # a session's route
            ]
            for headers, name in targets:
                for params in (
                    b'{"name":"' + name + b'","arguments":{"text":' + nested + b"}}",
                    nested,
                ):
                    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":' + params + b"}"
                    response = await http.post(
                        url, content=body, headers={**headers, "content-type": "application/json"}
                    )
                    assert response.status_code == 400, (headers, response.status_code, response.text[:200])
                    assert error_of(response)["code"] in (-32700, -32600)
            batch = b"[" + nested + b"]"
            response = await http.post(
                url, content=batch, headers={**session.headers(), "content-type": "application/json"}
            )
            assert response.status_code == 400 and error_of(response)["code"] in (-32700, -32600)
            # and the server goes on serving
            echo = modern(2, "tools/call", {"name": "echo", "arguments": {"text": "fine"}})
            response = await http.post(url, json=echo, headers=modern_headers(echo))
            assert response.status_code == 200, response.text

    run(main())


def test_invalid_utf8_gets_400_parse_error(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-06-18")
            good = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
            for headers in (modern_headers(good), session.headers()):
                for body in (
                    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo",'
                    b'"arguments":{"text":"\xff\xfe"}}}',
                    b'{"jsonrpc":"2.0","id":1,"method":"tools/c\xc3\x28ll"}',
                    b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,'
                    b'"reason":"\xff"}}',
                    b"\xef\xbb\xbf\x80",
                ):
                    response = await http.post(
                        url, content=body, headers={**headers, "content-type": "application/json"}
                    )
                    assert response.status_code == 400, (body, response.text)
                    if "mcp-session-id" in headers:
                        # (A 2025-06-18 session: the id it cannot read is null, as that revision's
                        # schema requires the member, which no later schema admits as null.)
                        answer = response.json()
                        assert "id" in answer and answer["id"] in (1, None), answer
                        assert answer["error"]["code"] == -32700, answer
                    else:
                        assert error_of(response)["code"] == -32700

    run(main())


BAD_IDS = [b"1.5", b"1.0", b"1e400", b"true", b"{}", b"[1]"]


def test_a_request_id_that_is_no_string_or_integer_gets_invalid_request(url: str) -> None:
    """Every schema says a request id is a string or an integer: an id 1.5 (or 1e400, read as
    infinity) was taken and echoed (infinity as null), on each route. Now -32600 with no id (the
    2025-11-25 and later error envelope has no null id), and the next request is served."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-11-25")
            echo = modern("RID", "tools/call", {"name": "echo", "arguments": {"text": "x"}})
            legacy = {"jsonrpc": "2.0", "id": "RID", "method": "tools/call"}
            legacy["params"] = {"name": "echo", "arguments": {"text": "x"}}
            targets = [
                (modern_headers(echo), echo),  # the one-pass decoder's route
                (session.headers(), legacy),  # a session's route
            ]
            for headers, message in targets:
                for rid in BAD_IDS:
                    body = json.dumps(message).replace('"RID"', rid.decode()).encode()
                    response = await http.post(
                        url, content=body, headers={**headers, "content-type": "application/json"}
                    )
                    assert response.status_code == 400, (headers, rid, response.status_code, response.text)
                    assert error_of(response)["code"] == -32600, (rid, response.text)
                    assert response.json().get("id") is None, (rid, response.text)
                    good = json.dumps(message).replace('"RID"', "7").encode()
                    response = await http.post(
                        url, content=good, headers={**headers, "content-type": "application/json"}
                    )
                    assert response.status_code == 200, response.text
                    (answer,) = messages_of(response)
                    assert answer["id"] == 7 and answer["result"]["content"][0]["text"] == "x", answer

    run(main())


@pytest.mark.parametrize("params", ['"x"', "7", "true", "null"])
def test_params_that_are_no_object_are_refused_with_the_requests_id(url: str, params: str) -> None:
    """JSON-RPC 2.0: params "MUST be a structured value"; a request that breaks it gets -32600, and the
    answer names its id when the id could be read. `"params": "x"` got -32600 with a null id: the route
    peeked at the params as an object before anything else and lost the envelope's answer. Now the id
    is named, on the stateless route (with and without `Mcp-Method`) and on a session's."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-11-25")
            echo = modern(41, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
            legacy = {"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {}}
            bare = {k: v for k, v in modern_headers(echo).items() if not k.lower().startswith("mcp-")}
            bare["MCP-Protocol-Version"] = MODERN
            targets = [
                (modern_headers(echo), echo),  # the one-pass decoder's route
                (bare, echo),  # the stateless route read the general way (refused for its params first)
                (session.headers(), legacy),  # a session's route
            ]
            for headers, message in targets:
                body = json.dumps({**message, "params": "PARAMS"}).replace('"PARAMS"', params).encode()
                sent = {**headers, "content-type": "application/json"}
                response = await http.post(url, content=body, headers=sent)
                assert response.status_code == 400, (headers, response.status_code, response.text)
                assert error_of(response)["code"] == -32600, response.text
                assert response.json()["id"] == 41, (headers, response.text)
                good = session.headers() if message is legacy else modern_headers(echo)
                response = await http.post(url, json=message, headers=good)
                assert response.status_code == 200, response.text

    run(main())


# -- headers -----------------------------------------------------------------------------------------


def test_duplicated_mcp_headers_are_refused(url: str) -> None:
    message = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
    import json

    body = json.dumps(message).encode()
    base = [
        ("Accept", BOTH),
        ("Content-Type", "application/json"),
        ("MCP-Protocol-Version", MODERN),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "echo"),
    ]
    status, answer = raw_post(url, body, base)
    assert status == 200, answer
    for name, value in [
        ("Mcp-Name", "crash"),
        ("Mcp-Name", "echo"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Session-Id", "x"),
    ]:
        headers = [*base, (name, value)]
        if name == "Mcp-Session-Id":
            headers.append((name, "y"))
        status, answer = raw_post(url, body, headers)
        assert status == 400, (name, answer)
        error = json.loads(answer)["error"]
        assert error["code"] == -32600 and name.lower() in error["message"].lower()
    # The version header on two lines names no version: refused as 2026-07-28 refuses a version
    # header it cannot read (HeaderMismatch), with the request's id, which a dual-era client matches.
    for second in (MODERN, STATEFUL[-1]):
        status, answer = raw_post(url, body, [*base, ("MCP-Protocol-Version", second)])
        assert status == 400, answer
        refusal = json.loads(answer)
        assert refusal["id"] == 1 and refusal["error"]["code"] == revisions.HEADER_MISMATCH, refusal
        assert "sent more than once" in refusal["error"]["message"]
    status, answer = raw_post(url, body, [*base, ("Mcp-Param-Region", "a"), ("mcp-param-region", "b")])
    assert status == 400, answer


def null_id_error(response: httpx.Response) -> dict[str, Any]:
    """The error of a refusal naming no request on a session of 2025-06-18 or earlier: its id null,
    as that revision's schema requires the member (no later schema admits a null id)."""
    body = response.json()
    assert "id" in body and body["id"] is None, body
    return dict(body["error"])


def test_a_sessions_version_header_names_the_revision_it_negotiated(url: str) -> None:
    """A session's `MCP-Protocol-Version` that is not the revision it negotiated is 400, with the
    request's id: another revision the server serves (it was let through, the message read for one
    revision and answered for another), one it does not serve, and the header on two lines (both
    were refused with no id). Its GET, DELETE and batches likewise (any version was taken there)."""
    host = url.split("//")[1].split("/")[0]

    async def main() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-06-18")
            for rid, version in enumerate(("2025-03-26", "2025-11-25", "1999-01-01"), 10):
                odd = session.headers(**{"mcp-protocol-version": version})
                refused = await http.post(url, json=request(rid, "tools/list"), headers=odd)
                assert refused.status_code == 400, refused.text
                assert refused.json()["id"] == rid, refused.text
                error = error_of(refused)
                assert error["code"] == -32600 and version in error["message"], error
                if version != "1999-01-01":
                    assert "it negotiated 2025-06-18" in error["message"], error
            body = json.dumps(request(20, "tools/list")).encode()
            fields = [
                ("Host", host),
                ("Accept", BOTH),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Mcp-Session-Id", session.id),
            ]
            for second in ("2025-06-18", "2025-03-26"):
                twice = [*fields, ("MCP-Protocol-Version", "2025-06-18"), ("MCP-Protocol-Version", second)]
                status, answer = by_hand(url, twice, body)
                assert status == 400, answer
                refusal = json.loads(answer)
                assert refusal["id"] == 20 and refusal["error"]["code"] == -32600, refusal
                assert "sent more than once" in refusal["error"]["message"], refusal
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            odd = session.headers(**{"mcp-protocol-version": "2025-03-26"})
            refused = await http.post(url, json=note, headers=odd)
            # (Null: the session is of 2025-06-18, whose schema requires the member.)
            assert refused.status_code == 400 and null_id_error(refused), refused.text
            for version in ("2025-03-26", "1999-01-01"):
                odd = session.headers(accept="text/event-stream", **{"mcp-protocol-version": version})
                listen = await http.get(url, headers=odd)
                assert listen.status_code == 400 and version in null_id_error(listen)["message"], listen.text
                resume = await http.get(url, headers={**odd, "last-event-id": "s-1"})
                assert resume.status_code == 400 and version in null_id_error(resume)["message"], resume.text
                ending = await http.delete(url, headers=odd)
                assert ending.status_code == 400 and version in null_id_error(ending)["message"], ending.text
            # Its own revision is served as ever.
            fine = await http.post(url, json=request(30, "ping"), headers=session.headers())
            assert messages_of(fine) == [{"jsonrpc": "2.0", "id": 30, "result": {}}]
            ended = await http.delete(url, headers=session.headers())
            assert ended.status_code == 200, ended.text
            batching = await open_session(http, url, "2025-03-26")  # (no version header in 2025-03-26)
            batch = [request(40, "ping")]
            odd = batching.headers(**{"mcp-protocol-version": "2025-06-18"})
            refused = await http.post(url, json=batch, headers=odd)
            assert refused.status_code == 400, refused.text
            assert "it negotiated 2025-03-26" in null_id_error(refused)["message"]
            for headers in (batching.headers(), batching.headers(**{"mcp-protocol-version": "2025-03-26"})):
                answered = await http.post(url, json=batch, headers=headers)
                assert messages_of(answered) == [{"jsonrpc": "2.0", "id": 40, "result": {}}], answered.text

    run(main())


def test_an_initialize_with_a_session_id_is_that_sessions_message(url: str) -> None:
    """`initialize` carrying a session's id opened a new session beside it (and one with an id no
    server knows, too). Now it is that session's message: refused as a second initialize (-32600 with
    its id), no session opened and the session kept (its revision's header still taken); and with a
    session not found, 404, as any of a session's messages, so that the client starts anew with none."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-06-18")
            again = await http.post(url, json=initialize("2025-03-26", rid=9), headers=session.headers())
            assert "mcp-session-id" not in again.headers, again.headers
            (answer,) = messages_of(again)
            assert answer["id"] == 9 and answer["error"]["code"] == -32600, answer
            still = await http.post(url, json=request(10, "ping"), headers=session.headers())
            assert messages_of(still) == [{"jsonrpc": "2.0", "id": 10, "result": {}}]
            unknown = {"accept": BOTH, "mcp-session-id": "no-such-session"}
            lost = await http.post(url, json=initialize("2025-06-18", rid=11), headers=unknown)
            assert lost.status_code == 404 and "mcp-session-id" not in lost.headers, lost.text

    run(main())


def test_host_and_origin_ignore_case(url: str) -> None:
    port = url.split(":")[2].split("/")[0]

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
            for host in (f"LOCALHOST:{port}", "LocalHost", f"[::1]:{port}"):
                response = await http.post(url, json=message, headers=modern_headers(message, host=host))
                assert response.status_code == 200, host
            for origin in (f"HTTP://LOCALHOST:{port}", "http://LocalHost"):
                response = await http.post(url, json=message, headers=modern_headers(message, origin=origin))
                assert response.status_code == 200, origin
            for host in ("LOCALHOST.evil", "evil.example"):
                response = await http.post(url, json=message, headers=modern_headers(message, host=host))
                assert response.status_code == 403, host

    run(main())


def test_accept_follows_rfc_9110(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
            for accept in (
                "*/*",
                "application/*, text/*",
                "Application/JSON, TEXT/Event-Stream",
                "application/json;charset=utf-8, text/event-stream;q=0.1",
                "*/*;q=0.5, text/event-stream",
                "text/html, */*",
            ):
                response = await http.post(url, json=message, headers=modern_headers(message, accept=accept))
                assert response.status_code == 200, (accept, response.text)
            for accept in (
                "application/jsonx, text/event-streamy",
                "application/json, text/event-stream;q=0",
                "*/*, application/json;q=0",
                "application/json",
                "text/*, application/xml",
                "",
            ):
                response = await http.post(url, json=message, headers=modern_headers(message, accept=accept))
                assert response.status_code == 406, (accept, response.text)
                assert error_of(response)["code"] == -32600
            session = await open_session(http, url, "2025-11-25")
            for accept, status in (("text/event-streamx", 406), ("text/*;q=0", 406)):
                response = await http.get(url, headers=session.headers(accept=accept))
                assert response.status_code == status, accept

    run(main())


def test_a_stateless_notification_needs_no_mcp_method(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}
            headers = {"accept": BOTH, "mcp-protocol-version": MODERN}
            response = await http.post(url, json=note, headers=headers)
            assert response.status_code == 202, response.text
            # A header that is sent must still agree with the body; a request still needs one.
            response = await http.post(url, json=note, headers={**headers, "mcp-method": "tools/call"})
            assert response.status_code == 400 and error_of(response)["code"] == -32020
            ping = modern(1, "ping")
            response = await http.post(url, json=ping, headers=headers)
            assert response.status_code == 400 and error_of(response)["code"] == -32020

    run(main())


# -- in-process servers (to look inside) ------------------------------------------------------------------


def _server() -> Server:
    """A server of its own for the in-process tests (the shared test servers are left as they are)."""
    server = Server("hostile")

    @server.tool()
    async def nap(seconds: float, ctx: Context) -> str:
        await asyncio.sleep(seconds)
        return "rested"

    @server.tool()
    async def drip(seconds: float, ctx: Context) -> str:
        await ctx.progress(1, 2, "started")
        await asyncio.sleep(seconds)
        return "dripped"

    @server.tool()
    async def big(size: int, ctx: Context) -> str:
        await ctx.progress(1, 2, "started")  # an SSE answer: its events are kept for resumption
        return "x" * size

    return server


async def _answered_or_refused(response: httpx.Response) -> str:
    """'answered' (200, the result) or 'refused' (503, Retry-After, a JSON-RPC error); nothing else."""
    if response.status_code == 503:
        assert response.headers.get("retry-after"), response.headers
        assert error_of(response)["code"] == -32000
        return "refused"
    assert response.status_code == 200, (response.status_code, response.text[:200])
    (answer,) = [m for m in messages_of(response) if "id" in m]
    assert answer["result"]["content"][0]["text"] == "rested", answer
    return "answered"


def test_a_thousand_concurrent_calls_on_one_session_are_all_answered_or_refused() -> None:
    app = HttpApp(_server(), keepalive=0.05)

    async def main(url: str) -> None:
        # A connection per request, never one kept alive: the server may close an idle one just as
        # the pool hands it out again (its keep-alive timeout), which is no failure of the server's.
        limits = httpx.Limits(max_connections=1100, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            session = await open_session(http, url, "2025-11-25")

            async def one(rid: int) -> str:
                message = call(rid, "nap", {"seconds": 0.5})
                response = await http.post(url, json=message, headers=session.headers())
                return await _answered_or_refused(response)

            outcomes = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(1, 1001))), 45)
            state = app.sessions[session.id]
            cap = app.security.max_streams_per_session
            assert outcomes.count("answered") >= 1 and len(outcomes) == 1000
            assert len(state.open_streams) <= cap
            assert len(state.conn.peer.running) <= cap
            for _ in range(100):
                if state.streams == 0 and not state.conn.peer.running:
                    break
                await asyncio.sleep(0.05)
            assert state.streams == 0 and not state.conn.peer.running
            # and the session serves on
            outcome = await one(5000)
            assert outcome == "answered"

    with serve_in_process(app) as url:
        run(main(url), 90)


def test_stateless_requests_in_flight_are_bounded() -> None:
    app = HttpApp(_server(), security=HttpSecurity(max_stateless_requests=8))

    async def main(url: str) -> None:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:

            async def one(rid: int) -> str:
                message = modern(rid, "tools/call", {"name": "nap", "arguments": {"seconds": 0.5}})
                return await _answered_or_refused(
                    await http.post(url, json=message, headers=modern_headers(message))
                )

            outcomes = await asyncio.gather(*(one(i) for i in range(1, 41)))
            assert outcomes.count("answered") >= 8 and outcomes.count("refused") >= 1, outcomes
            assert app.stateless.running == 0
            assert await one(99) == "answered"

    with serve_in_process(app) as url:
        run(main(url))


def test_session_streams_beyond_the_cap_are_refused_at_once() -> None:
    app = HttpApp(_server(), security=HttpSecurity(max_streams_per_session=4), keepalive=0.05)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            session = await open_session(http, url, "2025-11-25")
            slow = [
                asyncio.ensure_future(
                    http.post(url, json=call(i, "nap", {"seconds": 5.0}), headers=session.headers())
                )
                for i in range(1, 5)
            ]
            held = app.table.sessions[session.id]
            for _ in range(1000):  # bounded (20 s): until the server holds the four
                if held.streams == 4:
                    break
                await asyncio.sleep(0.02)
            assert held.streams == 4
            refused = await http.post(url, json=call(9, "nap", {"seconds": 0.1}), headers=session.headers())
            # At once, not after a wait for a place: while the four still nap (a wall-clock bound
            # here failed on a loaded machine).
            assert not any(task.done() for task in slow)
            assert await _answered_or_refused(refused) == "refused"
            assert error_of(refused)["code"] == -32000 and refused.json()["id"] == 9
            get = await http.get(url, headers=session.headers(accept="text/event-stream"))
            assert get.status_code == 503
            assert [await _answered_or_refused(r) for r in await asyncio.gather(*slow)] == ["answered"] * 4

    with serve_in_process(app) as url:
        run(main(url))


# -- resumption ---------------------------------------------------------------------------------------


def _raw_get(url: str, headers: list[tuple[str, bytes]]) -> tuple[int, bytes]:
    host, port = url.split("//")[1].split("/")[0].split(":")
    head = [b"GET /mcp HTTP/1.1", f"Host: {host}:{port}".encode(), b"Connection: close"]
    head += [k.encode() + b": " + v for k, v in headers]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n")
        sock.settimeout(3)
        data = b""
        try:
            while len(data) < 100_000 and (chunk := sock.recv(65536)):  # bounded: a stream may not end
                data += chunk
        except TimeoutError:
            pass
    return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2]


def _events(text: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(id, message) of each SSE event that carries data."""
    import json

    out: list[tuple[str | None, dict[str, Any]]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        ids = [line[3:].strip() for line in lines if line.startswith("id:")]
        data = [line[5:].strip() for line in lines if line.startswith("data:")]
        if data and any(data):
            out.append((ids[0] if ids else None, json.loads("\n".join(data))))
    return out


def test_last_event_id_that_is_not_ours_gets_400_not_500(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            base = [("Accept", b"text/event-stream"), ("Mcp-Session-Id", session.id.encode())]
            base.append(("MCP-Protocol-Version", b"2025-11-25"))
            # (A sequence number past 4300 digits made int() raise: 500. Long ones name no event.)
            long = (b"get-" + b"9" * 5000, b"s1-" + b"0" * 5000 + b"1", b"s1-" + b"1" * 20)
            for last in (b"s1-\xb2", b"s1-\xd9\xa3", b"nonsense", b"-", *long):
                status, body = await asyncio.to_thread(_raw_get, url, [*base, ("Last-Event-ID", last)])
                assert status == 400, (last, status, body)
                assert b'"code":-32600' in body.replace(b" ", b"")
                # A session that ended (or never was) is 404 first, whatever its Last-Event-ID:
                # the transport's MUST, and what tells a client to initialize again.
                unknown = [base[0], ("Mcp-Session-Id", b"no-such-session"), base[2]]
                status, body = await asyncio.to_thread(_raw_get, url, [*unknown, ("Last-Event-ID", last)])
                assert status == 404, (last, status, body)
            await http.post(url, json=call(1, "echo", {"text": "x"}), headers=session.headers())

    run(main())


def test_another_sessions_event_id_replays_nothing_of_it(url: str) -> None:
    """A `Last-Event-ID` naming an event of another session's stream (ids are not secret: any proxy
    log has them): the server "MUST NOT replay messages that would have been delivered on a
    different stream", let alone another session's. Session B resuming A's stream gets none of A's
    messages (an empty stream), while A resuming it gets the rest of its own."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            a = await open_session(http, url, "2025-11-25")
            b = await open_session(http, url, "2025-11-25")
            drip = call(1, "drip", {"seconds": 0.05}, _meta={"progressToken": 5})
            response = await http.post(url, json=drip, headers=a.headers())
            first = _events(response.text)[0][0]
            assert first is not None, response.text
            for session, own in ((b, False), (a, True)):
                base = [("Accept", b"text/event-stream"), ("Mcp-Session-Id", session.id.encode())]
                base += [("MCP-Protocol-Version", b"2025-11-25"), ("Last-Event-ID", first.encode())]
                status, body = await asyncio.to_thread(_raw_get, url, base)
                assert status in (200, 400, 404), (status, body)
                assert (b"dripped" in body) is own, (own, body)

    run(main())


def test_a_last_event_id_of_the_clients_choosing_does_not_set_the_get_streams_numbering() -> None:
    """`Last-Event-ID: get-<huge>` on a worker with no GET stream for the session started the new
    stream's numbering after the client's number; now it replays nothing and numbering is the
    server's: the first event is numbered from what the server kept (nothing: 1)."""
    server = _server()

    @server.tool()
    async def churn() -> str:
        server.remove_tool("nap")  # tools/list_changed: a message of the GET stream
        return "done"

    app = HttpApp(server, keepalive=0.05)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-11-25")
            headers = session.headers(accept="text/event-stream", **{"last-event-id": "get-" + "9" * 19})
            async with http.stream("GET", url, headers=headers) as get:
                assert get.status_code == 200
                response = await http.post(url, json=call(1, "churn", {}), headers=session.headers())
                assert response.status_code == 200, response.text
                seen = ""
                async for chunk in get.aiter_text():  # bounded by the client's timeout
                    seen += chunk
                    if _events(seen):
                        break
            event_id, note = _events(seen)[0]
            assert note["method"] == "notifications/tools/list_changed", note
            assert event_id == "get-1", event_id

    with serve_in_process(app) as url:
        run(main(url))


def test_resuming_a_post_stream_still_being_read_takes_it_over() -> None:
    """A resumption says its client left the stream, whether or not the server has seen it go: the
    response still writing it out ends, and the resumption alone gets the rest (never two readers
    splitting its events; it was refused 409 until the server noticed the old connection gone)."""
    app = HttpApp(_server(), keepalive=0.05)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            message = call(1, "drip", {"seconds": 1.0}, _meta={"progressToken": "p"})
            async with http.stream("POST", url, json=message, headers=session.headers()) as post:
                seen = ""
                chunks = post.aiter_text()
                async for chunk in chunks:
                    seen += chunk
                    if _events(seen):
                        break
                last = _events(seen)[-1][0]
                assert last is not None
                resume = await http.get(
                    url, headers=session.headers(accept="text/event-stream", **{"last-event-id": last})
                )
                assert resume.status_code == 200, resume.text
                async for chunk in chunks:  # the old response ends, with no more events
                    seen += chunk
            assert [m.get("id") for _, m in _events(seen)] == [None]  # the progress alone
            rest = _events(resume.text)
            assert [m["result"]["content"][0]["text"] for _, m in rest] == ["dripped"], rest

    with serve_in_process(app) as url:
        run(main(url))


def test_resuming_a_finished_stream_replays_its_rest_even_with_the_get_stream_open() -> None:
    app = HttpApp(_server(), keepalive=0.05)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            async with http.stream("GET", url, headers=session.headers(accept="text/event-stream")) as get:
                assert get.status_code == 200
                message = call(1, "drip", {"seconds": 0.05}, _meta={"progressToken": "p"})
                response = await http.post(url, json=message, headers=session.headers())
                events = _events(response.text)
                ids = [i for i, _ in events]
                assert len(events) == 2 and all(ids), events  # the progress, then the answer
                # Resume after the progress: the answer alone, and the response ends.
                resume = await http.get(
                    url, headers=session.headers(accept="text/event-stream", **{"last-event-id": ids[0]})
                )
                assert resume.status_code == 200, resume.text
                assert resume.headers["content-type"].startswith("text/event-stream")
                assert _events(resume.text) == [events[1]]
                # After the last event, or on a stream never seen: nothing left, and the response ends.
                for last in (ids[1], "s999999-1"):
                    resume = await http.get(
                        url, headers=session.headers(accept="text/event-stream", **{"last-event-id": last})
                    )
                    assert resume.status_code == 200 and _events(resume.text) == [], resume.text

    with serve_in_process(app) as url:
        run(main(url))


# -- memory ---------------------------------------------------------------------------------------------


def test_the_event_store_is_bounded_by_bytes() -> None:
    app = HttpApp(_server(), security=HttpSecurity(max_replay_bytes=1_000_000))

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            session = await open_session(http, url, "2025-11-25")
            for i in range(12):
                message = call(i, "big", {"size": 300_000}, _meta={"progressToken": i})
                response = await http.post(url, json=message, headers=session.headers())
                assert len(response.content) > 300_000
            store = app.sessions[session.id].store
            kept = sum(len(data) for _, _, data in store.events)  # type: ignore[attr-defined]
            assert 300_000 < kept <= 1_000_000
            # An answer larger than the whole bound is answered, and not kept.
            message = call(99, "big", {"size": 1_200_000}, _meta={"progressToken": 99})
            response = await http.post(url, json=message, headers=session.headers())
            assert response.status_code == 200 and len(response.content) > 1_200_000
            kept = sum(len(data) for _, _, data in store.events)  # type: ignore[attr-defined]
            assert kept <= 1_000_000

    with serve_in_process(app) as url:
        run(main(url))
    assert HttpApp(_server()).event_store("s").max_bytes == 8 * 1024 * 1024  # type: ignore[attr-defined]


def test_a_deleted_session_is_freed_without_the_garbage_collector() -> None:
    app = HttpApp(_server(), keepalive=0.05)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            message = call(1, "drip", {"seconds": 0.01}, _meta={"progressToken": 1})
            assert (await http.post(url, json=message, headers=session.headers())).status_code == 200
            ref = weakref.ref(app.sessions[session.id])
            gc.disable()
            try:
                deleted = await http.delete(url, headers=session.headers())
                assert deleted.status_code == 200
                for _ in range(50):
                    if ref() is None:
                        break
                    await asyncio.sleep(0.02)
                assert ref() is None, gc.get_referrers(ref())
            finally:
                gc.enable()

    with serve_in_process(app) as url:
        run(main(url))


# -- requestState -------------------------------------------------------------------------------------------


def test_an_empty_principal_is_refused() -> None:
    """`verify_token` returning "" names no one: every such caller would share one identity (sessions,
    requestStates, tasks), so the request is refused as without a credential."""

    async def verify(token: str) -> Any:
        return {"nobody": "", "alice-token": "alice"}.get(token)

    app = HttpApp(_server(), security=HttpSecurity(verify_token=verify))

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = modern(1, "tools/list", {})
            for token, status in (("nobody", 401), ("alice-token", 200)):
                headers = modern_headers(message, authorization=f"Bearer {token}")
                assert (await http.post(url, json=message, headers=headers)).status_code == status

    with serve_in_process(app) as url:
        run(main(url))


def test_request_state_is_bound_to_the_principal_and_unreadable() -> None:
    users = {"alice-token": {"sub": "alice", "scopes": ["mcp"]}, "bob-token": {"sub": "bob"}}

    async def verify(token: str) -> Any:
        return users.get(token)

    server = _server()

    @server.tool()
    async def vault(ctx: Context) -> str:
        schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
        first = await ctx.elicit("Your secret?", schema, key="secret")
        second = await ctx.elicit("Sure?", schema, key="sure")
        return f"{(first.content or {}).get('answer')}/{(second.content or {}).get('answer')}"

    app = HttpApp(server, security=HttpSecurity(verify_token=verify))
    caps = {"elicitation": {"form": {}}}

    def vault_call(rid: int, **extra: Any) -> dict[str, Any]:
        message = modern(rid, "tools/call", {"name": "vault", "arguments": {}, **extra})
        message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = caps
        return message

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:

            async def post(message: dict[str, Any], token: str) -> dict[str, Any]:
                headers = modern_headers(message, authorization=f"Bearer {token}")
                response = await http.post(url, json=message, headers=headers)
                (answer,) = messages_of(response)
                return answer

            first = await post(vault_call(1), "alice-token")
            assert first["result"]["resultType"] == "input_required"
            answered = {"secret": {"action": "accept", "content": {"answer": "hunter2"}}}
            second = await post(vault_call(2, inputResponses=answered), "alice-token")
            assert second["result"]["resultType"] == "input_required", second
            state = second["result"]["requestState"]
            # What Alice answered is not readable in the state she is given back.
            import base64

            for part in state.split("."):
                decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
                assert b"hunter2" not in decoded and b"alice" not in decoded and b"secret" not in decoded
            sure = {"sure": {"action": "accept", "content": {"answer": "yes"}}}
            # Bob replays Alice's state: refused, and he learns nothing of her answer.
            stolen = await post(vault_call(3, requestState=state, inputResponses=sure), "bob-token")
            assert stolen.get("error", {}).get("code") == -32602, stolen
            assert "hunter2" not in str(stolen)
            # Alice goes on with it.
            done = await post(vault_call(4, requestState=state, inputResponses=sure), "alice-token")
            assert done["result"]["content"][0]["text"] == "hunter2/yes", done
            # A state tampered with, bit by bit, opens for nobody.
            raw = bytearray(state.encode())
            raw[10] = ord("A") if raw[10] != ord("A") else ord("B")
            bad = await post(vault_call(5, requestState=raw.decode(), inputResponses=sure), "alice-token")
            assert bad.get("error", {}).get("code") == -32602, bad

    with serve_in_process(app) as url:
        run(main(url))


def test_a_shared_secret_opens_states_across_workers() -> None:
    from mcpbind.protocol.request_state import InvalidState, StateSealer

    one, two = StateSealer(b"k" * 32), StateSealer(b"k" * 32)
    token = one.seal("tools/call", "d", {"a": {"x": 1}}, "alice")
    assert two.open(token, "tools/call", "d", "alice") == {"a": {"x": 1}}
    for args in (("tools/call", "d", "bob"), ("tools/call", "e", "alice"), ("prompts/get", "d", "alice")):
        with pytest.raises(InvalidState):
            two.open(token, *args)
    with pytest.raises(InvalidState):
        StateSealer(b"j" * 32).open(token, "tools/call", "d", "alice")
    assert one.seal("m", "d", {}) != one.seal("m", "d", {})  # a fresh nonce each time


# -- capabilities per revision ------------------------------------------------------------------------------

NEWEST_CLIENT_CAPS: dict[str, Any] = {
    "elicitation": {"form": {}, "url": {}},
    "sampling": {"tools": {}, "context": {}},
    "roots": {"listChanged": True},
    "tasks": {"list": {}, "cancel": {}},
    "experimental": {},
}


def _caps_server() -> Server:
    import json

    server = _server()

    @server.tool()
    async def caps(ctx: Context) -> str:
        return json.dumps(ctx.client_capabilities)

    @server.tool()
    async def visit(ctx: Context) -> str:
        answer = await ctx.elicit("Sign in", {}, url="https://example.com/login", key="login")
        return answer.action

    @server.completion("prompt", "p")
    def complete(argument: str, value: str, context: dict[str, Any]) -> list[str]:
        return []

    return server


@pytest.mark.parametrize("revision", STATEFUL)
def test_capabilities_are_those_of_the_negotiated_revision(revision: str) -> None:
    import json

    app = HttpApp(_caps_server(), json_response=True)
    mod = revisions.module(revision)
    url_mode = hasattr(mod, "ElicitRequestURLParams")

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            # open_session checks the server's InitializeResult against the revision's schema.
            session = await open_session(http, url, revision, capabilities=NEWEST_CLIENT_CAPS)
            response = await http.post(url, json=call(2, "caps"), headers=session.headers())
            seen = json.loads(response.json()["result"]["content"][0]["text"])
            from ..http_support import conforms

            conforms(revision, "ClientCapabilities", seen)
            assert ("tasks" in seen) == ("tasks" in mod.ClientCapabilities.__struct_encode_fields__)
            assert ("elicitation" in seen) == ("elicitation/create" in mod.REQUESTS)
            assert ("url" in seen.get("elicitation", {})) == url_mode
            # A URL-mode elicitation is never sent where the revision or the client lacks it.
            if url_mode:
                session = await open_session(http, url, revision, capabilities={"elicitation": {}})
            response = await http.post(url, json=call(3, "visit"), headers=session.headers())
            sent = messages_of(response)
            assert not any(m.get("method") == "elicitation/create" for m in sent), sent
            answer = sent[-1]
            assert "error" in answer or answer["result"].get("isError"), answer

    with serve_in_process(app) as url:
        run(main(url))


def test_a_session_is_its_principals_alone() -> None:
    users = {"alice-token": {"sub": "alice"}, "bob-token": {"sub": "bob"}}

    async def verify(token: str) -> Any:
        return users.get(token)

    app = HttpApp(_server(), security=HttpSecurity(verify_token=verify), json_response=True)

    async def main(url: str) -> None:
        alice = {"authorization": "Bearer alice-token"}
        bob = {"authorization": "Bearer bob-token"}
        async with httpx.AsyncClient(timeout=10, headers=alice) as http:
            session = await open_session(http, url, "2025-11-25")
        async with httpx.AsyncClient(timeout=10, headers=bob) as http:
            nap = call(2, "nap", {"seconds": 0})
            response = await http.post(url, json=nap, headers=session.headers())
            assert response.status_code == 404 and error_of(response)["code"] == -32600
            response = await http.get(url, headers=session.headers(accept="text/event-stream"))
            assert response.status_code == 404
            response = await http.delete(url, headers=session.headers())
            assert response.status_code == 404
            # A batch (2025-03-26 sessions have them) on another principal's session is not found either.
        async with httpx.AsyncClient(timeout=10, headers=alice) as http:
            batching = await open_session(http, url, "2025-03-26")
        async with httpx.AsyncClient(timeout=10, headers=bob) as http:
            response = await http.post(url, json=[call(4, "nap", {"seconds": 0})], headers=batching.headers())
            assert response.status_code == 404, response.text
            # (no version header: a request of 2025-03-26, whose error naming no request says `"id": null`)
            assert response.json()["id"] is None and response.json()["error"]["code"] == -32600
        async with httpx.AsyncClient(timeout=10, headers=alice) as http:
            response = await http.post(url, json=call(3, "nap", {"seconds": 0}), headers=session.headers())
            assert response.status_code == 200 and response.json()["result"]["content"][0]["text"] == "rested"
            assert (await http.delete(url, headers=session.headers())).status_code == 200
            response = await http.post(url, json=[call(5, "nap", {"seconds": 0})], headers=batching.headers())
            assert (
                response.status_code == 200 and response.json()[0]["result"]["content"][0]["text"] == "rested"
            )

    with serve_in_process(app) as url:
        run(main(url))


def test_run_http_takes_the_limits() -> None:
    from pathlib import Path

    script = str(Path(__file__).resolve().parents[1] / "servers" / "run_http.py")
    with serve(script, "--max-body", "300") as endpoint:

        async def main() -> None:
            async with httpx.AsyncClient(timeout=10) as http:
                small = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
                response = await http.post(endpoint, json=small, headers=modern_headers(small))
                assert response.status_code == 200, response.text
                large = modern(2, "tools/call", {"name": "echo", "arguments": {"text": "x" * 400}})
                response = await http.post(endpoint, json=large, headers=modern_headers(large))
                assert response.status_code == 413 and error_of(response)["code"] == -32600

        run(main())


def test_a_cancelled_requests_post_ends_as_an_empty_event_stream() -> None:
    """A POSTed request is answered with JSON or an event stream whatever becomes of it: cancelled
    before it answered, its POST gets an event stream that ends with no answer (clients of the official
    TypeScript SDK refuse a 204 with no content type as "Unexpected content type")."""
    app = HttpApp(_server())

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            pending = asyncio.ensure_future(
                http.post(url, json=call(7, "nap", {"seconds": 30}), headers=session.headers())
            )
            await asyncio.sleep(0.3)
            cancel = {
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": 7, "reason": "enough"},
            }
            assert (await http.post(url, json=cancel, headers=session.headers())).status_code == 202
            response = await asyncio.wait_for(pending, 5)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert [m for m in messages_of(response) if "id" in m] == []
            response = await http.post(url, json=call(8, "nap", {"seconds": 0}), headers=session.headers())
            assert [m["result"]["content"][0]["text"] for m in messages_of(response)] == ["rested"]

    with serve_in_process(app) as url:
        run(main(url))
