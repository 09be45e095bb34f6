"""Streamable HTTP end to end: mcpbind's ASGI app under a real uvicorn on loopback, driven by raw HTTP
(httpx) for what a well-behaved client never sends, and by mcpbind's own client for what is HTTP-specific.

The servers run in subprocesses (tests/servers/full.py, and tests/servers/http_extra.py, which adds a
tool that streams then waits, an auth hook and short keep-alives); one test runs the app in-process to
look at its stream bookkeeping. Every wait is bounded, and every process is stopped at the end.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from mcpbind import wire
from mcpbind.aio.interfaces import ROUTE, Prepared
from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.protocol import dispatch, revisions
from mcpbind.transports.http import HttpApp
from mcpbind.transports.http.client import StreamableHttpTransport
from mcpbind.transports.http.sse import Stream

from ..http_support import (
    BOTH,
    EXTRA,
    FULL,
    META_VERSION,
    MODERN,
    Session,
    call,
    check,
    conforms,
    error_of,
    load_script,
    messages_of,
    modern,
    modern_headers,
    open_session,
    request,
    serve,
    serve_in_process,
    sse_messages,
)
from ..schema_check import Recorder

STATEFUL = list(revisions.STATEFUL)
SUPPORTED = sorted(revisions.ALL, reverse=True)


def run(coro: Awaitable[Any], timeout: float = 30) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """tests/servers/full.py --http PORT, shared by the tests that do not change what it serves."""
    with serve() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def extra_url() -> Iterator[str]:
    """The full server plus `drip`, with SSE keep-alive comments every 50 ms."""
    with serve(EXTRA, "--keepalive", "0.05") as endpoint:
        yield endpoint


def collector(into: list[str]) -> Any:
    async def on_changed(kind: str) -> None:
        into.append(kind)

    return on_changed


def echo_call(rid: Any = 100, text: str = "still here") -> dict[str, Any]:
    return modern(rid, "tools/call", {"name": "echo", "arguments": {"text": text}})


async def still_serving(http: httpx.AsyncClient, url: str, session: Session | None = None) -> None:
    """A valid request after bad input: answered as usual (the server keeps serving)."""
    if session is None:
        message = echo_call()
        response = await http.post(url, json=message, headers=modern_headers(message))
        revision = MODERN
    else:
        message = call(100, "echo", {"text": "still here"})
        response = await http.post(url, json=message, headers=session.headers())
        revision = session.revision
    assert response.status_code == 200, response.text
    (answer,) = messages_of(response)
    assert answer["id"] == 100 and answer["result"]["content"][0]["text"] == "still here"
    check(revision, [message], [answer])


async def cancelled_count(http: httpx.AsyncClient, url: str) -> int:
    message = modern(900, "tools/call", {"name": "cancelled_count", "arguments": {}})
    response = await http.post(url, json=message, headers=modern_headers(message))
    return int(response.json()["result"]["content"][0]["text"])


async def wait_count(http: httpx.AsyncClient, url: str, expected: int, seconds: float = 5.0) -> int:
    """Poll `cancelled_count` until it reaches `expected` (bounded); return what it was last."""
    count = await cancelled_count(http, url)
    for _ in range(int(seconds / 0.05)):
        if count >= expected:
            break
        await asyncio.sleep(0.05)
        count = await cancelled_count(http, url)
    return count


async def first_event(response: httpx.Response) -> dict[str, Any]:
    """Read an SSE response until its first event with data (priming events and comments skipped)."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:") and line[5:].strip():
            data.append(line[5:].lstrip(" "))
        elif not line and data:
            break
    return dict(json.loads("\n".join(data)))


# -- 1. bad input, each refused with the status and error the spec prescribes ------------------------


def test_wrong_content_type_or_accept(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = echo_call(1)
            body = json.dumps(message).encode()
            for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
                headers = modern_headers(message)
                if content_type is not None:
                    headers["content-type"] = content_type
                response = await http.post(url, content=body, headers=headers)
                assert response.status_code == 415, (content_type, response.text)
                assert error_of(response)["code"] == -32600
                await still_serving(http, url)
            for accept in ("application/json", "text/event-stream", "text/html"):
                response = await http.post(url, json=message, headers=modern_headers(message, accept=accept))
                assert response.status_code == 406, (accept, response.text)
                error_of(response)
                await still_serving(http, url)
            # Parameters and q-values are still JSON and SSE.
            response = await http.post(
                url,
                content=body,
                headers=modern_headers(
                    message,
                    accept="application/json;q=0.9, text/event-stream;q=0.5",
                    **{"content-type": "application/json; charset=utf-8"},
                ),
            )
            assert response.status_code == 200 and messages_of(response)[0]["id"] == 1

    run(main())


def test_a_charset_other_than_utf8_is_refused_with_415(url: str) -> None:
    """JSON is UTF-8 (RFC 8259): a body said to be in another charset would be misread, so it is refused
    with 415 and a message that says so, whatever the charset's case or quoting; UTF-8 said any way is
    read."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = echo_call(1, "café")
            for charset, body in (
                ("iso-8859-1", json.dumps(message, ensure_ascii=False).encode("latin-1")),
                ('"ISO-8859-1"', json.dumps(message, ensure_ascii=False).encode("latin-1")),
                ("utf-16", json.dumps(message).encode("utf-16")),
                ("us-ascii", json.dumps(message).encode()),
            ):
                headers = modern_headers(message, **{"content-type": f"application/json; charset={charset}"})
                response = await http.post(url, content=body, headers=headers)
                assert response.status_code == 415, (charset, response.text)
                error = error_of(response)
                assert error["code"] == -32600, error
                assert "read as UTF-8" in error["message"] and charset.strip('"') in error["message"]
                await still_serving(http, url)
            for charset in ("utf-8", '"UTF-8"', "Utf-8"):
                content_type = f"application/json;charset={charset}; foo=bar"
                headers = modern_headers(message, **{"content-type": content_type})
                body = json.dumps(message, ensure_ascii=False).encode()
                response = await http.post(url, content=body, headers=headers)
                assert response.status_code == 200, (charset, response.text)
                assert messages_of(response)[0]["result"]["content"][0]["text"] == "café"

    run(main())


def test_malformed_json_and_non_objects(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            headers = {"accept": BOTH, "content-type": "application/json", "mcp-protocol-version": MODERN}
            for body in (b"{not json", b'{"jsonrpc":"2.0","id":1,', b"\xff\xfe\x00", b""):
                response = await http.post(url, content=body, headers=headers)
                assert response.status_code == 400, (body, response.text)
                error = error_of(response, MODERN)
                assert error["code"] == -32700 and "id" not in response.json()
                conforms(MODERN, "ParseError", error)
                await still_serving(http, url)
            for body in (b"42", b'"tools/list"', b"null", b"true"):
                response = await http.post(url, content=body, headers=headers)
                assert response.status_code == 400, (body, response.text)
                error = error_of(response, MODERN)
                assert error["code"] == -32600
                conforms(MODERN, "InvalidRequestError", error)
            await still_serving(http, url)

    run(main())


def test_a_lone_surrogate_escape_is_named_in_the_parse_error(url: str) -> None:
    """A \\uD800 escape with no low surrogate after it is no Unicode text: -32700, and the message says
    that (msgspec's own says the input "was truncated"), wherever the escape is: in the params, in an
    argument, or in the envelope."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = echo_call(1, "LONE")
            params = message["params"]
            params["arguments"] = params.pop("arguments")  # last: the escape near the end of the text
            for body in (
                json.dumps(message).replace("LONE", "\\ud800").encode(),  # ("was truncated")
                json.dumps(message).replace("LONE", "a\\ud800b").encode(),
                json.dumps(message).replace('"tools/call"', '"tools/call\\udbff"').encode(),
            ):
                headers = modern_headers(message, **{"content-type": "application/json"})
                response = await http.post(url, content=body, headers=headers)
                assert response.status_code in (200, 400), (body, response.text)
                error = error_of(response, MODERN)
                assert error["code"] == -32700, (body, error)
                assert "lone UTF-16 high surrogate" in error["message"], (body, error)
                assert "truncated" not in error["message"]
                await still_serving(http, url)

    run(main())


def test_a_response_from_the_client_on_the_stateless_wire(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            headers = {"accept": BOTH, "mcp-protocol-version": MODERN}
            for message in (
                {"jsonrpc": "2.0", "id": 5, "result": {}},
                {"jsonrpc": "2.0", "id": 6, "error": {"code": -32603, "message": "no"}},
            ):
                response = await http.post(url, json=message, headers=headers)
                assert response.status_code == 400, response.text
                assert error_of(response, MODERN)["code"] == -32600
            await still_serving(http, url)

    run(main())


def test_batches_are_refused_where_the_revision_has_none(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = echo_call(1)
            response = await http.post(url, json=[message], headers=modern_headers(message))
            assert response.status_code == 400
            assert error_of(response, MODERN)["code"] == -32600
            await still_serving(http, url)
            for revision in ("2024-11-05", "2025-06-18", "2025-11-25"):
                session = await open_session(http, url, revision)
                batch = [call(2, "echo", {"text": "a"}), request(3, "ping")]
                response = await http.post(url, json=batch, headers=session.headers())
                assert response.status_code == 400, (revision, response.text)
                if revision == "2025-11-25":
                    assert error_of(response)["code"] == -32600
                else:  # (the session's revision's form of an error naming no request: `"id": null`)
                    answer = response.json()
                    assert answer["id"] is None and answer["error"]["code"] == -32600, answer
                await still_serving(http, url, session)

    run(main())


def test_batches_are_answered_in_2025_03_26(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-03-26")
            batch = [
                call(2, "echo", {"text": "a"}),
                request(3, "ping"),
                {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
                call(4, "add", {"a": 1, "b": 2}),
            ]
            response = await http.post(url, json=batch, headers=session.headers())
            assert response.status_code == 200, response.text
            answers = messages_of(response)
            assert isinstance(response.json(), list)
            by_id = {m["id"]: m for m in answers}
            assert sorted(by_id) == [2, 3, 4]
            assert by_id[2]["result"]["content"][0]["text"] == "a" and by_id[3]["result"] == {}
            check("2025-03-26", batch, answers)
            await still_serving(http, url, session)

    run(main())


def test_a_batch_of_notifications_is_accepted_with_202(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=3) as http:
            session = await open_session(http, url, "2025-03-26")
            batch = [{"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}]
            response = await asyncio.wait_for(http.post(url, json=batch, headers=session.headers()), 3)
            assert response.status_code == 202 and response.content == b""

    run(main())


def test_a_batch_whose_request_streams_still_gets_its_responses(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            session = await open_session(http, url, "2025-03-26")
            batch = [call(5, "progress", {"steps": 2}, _meta={"progressToken": "b"}), request(6, "ping")]
            response = await asyncio.wait_for(http.post(url, json=batch, headers=session.headers()), 3)
            assert response.status_code == 200
            # An SSE stream: the progress notifications, then the batch's answer as one array.
            *notes, answers = messages_of(response)
            assert [n["method"] for n in notes] == ["notifications/progress"] * 2, response.text
            assert sorted(m["id"] for m in answers) == [5, 6], response.text
            check("2025-03-26", batch, [*notes, *answers])

    run(main())


def test_oversized_bodies_get_413(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            text = "x" * (5 * 1024 * 1024)
            message = echo_call(1, text)
            body = json.dumps(message).encode()
            headers = {**modern_headers(message), "content-type": "application/json"}
            response = await http.post(url, content=body, headers=headers)  # with Content-Length
            assert response.status_code == 413, response.text[:200]
            assert error_of(response, MODERN)["code"] == -32600
            await still_serving(http, url)

            async def chunks() -> Any:  # no Content-Length: the limit applies as the body arrives
                for i in range(0, len(body), 256 * 1024):
                    yield body[i : i + 256 * 1024]

            response = await http.post(url, content=chunks(), headers=headers)
            assert response.status_code == 413
            await still_serving(http, url)
            # Just under the limit is fine.
            response = await http.post(url, json=echo_call(2, "y" * (3 * 1024 * 1024)), headers=headers)
            assert response.status_code == 200
            assert len(messages_of(response)[0]["result"]["content"][0]["text"]) == 3 * 1024 * 1024

    run(main())


def test_bad_origin_and_bad_host_get_403(url: str) -> None:
    port = url.split(":")[2].split("/")[0]

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = echo_call(1)
            for origin in (
                "http://evil.example",
                "null",
                "http://localhost.evil.example",
                "https://127.0.0.2",
            ):
                for method in ("POST", "GET", "DELETE"):
                    headers = modern_headers(message, origin=origin)
                    response = await http.request(
                        method, url, json=message if method == "POST" else None, headers=headers
                    )
                    assert response.status_code == 403, (origin, method)
                    assert "id" not in response.json()
                    error_of(response)
            for host in ("evil.example", "evil.example:80", f"127.0.0.1.nip.io:{port}", "localhost.evil:1"):
                response = await http.post(url, json=message, headers=modern_headers(message, host=host))
                assert response.status_code == 403, host
                error_of(response)
            await still_serving(http, url)
            for origin in (f"http://127.0.0.1:{port}", "http://localhost:3000", "https://localhost"):
                response = await http.post(url, json=message, headers=modern_headers(message, origin=origin))
                assert response.status_code == 200, origin
            for host in (f"localhost:{port}", f"[::1]:{port}", "127.0.0.1"):
                response = await http.post(url, json=message, headers=modern_headers(message, host=host))
                assert response.status_code == 200, host

    run(main())


@pytest.mark.parametrize("revision", ["2025-03-26", "2025-11-25"])
def test_session_ids_missing_unknown_and_deleted(url: str, revision: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, revision)
            message = call(2, "echo", {"text": "a"})
            without = {k: v for k, v in session.headers().items() if k != "mcp-session-id"}
            response = await http.post(url, json=message, headers=without)
            assert response.status_code == 400
            assert error_of(response)["code"] == -32600
            response = await http.post(
                url, json=message, headers=session.headers(**{"mcp-session-id": "nope"})
            )
            assert response.status_code == 404
            error_of(response)
            await still_serving(http, url, session)
            # DELETE ends the session: everything that names it afterwards gets 404.
            response = await http.delete(url, headers=session.headers())
            assert response.status_code in (200, 204)
            response = await http.post(url, json=message, headers=session.headers())
            assert response.status_code == 404
            error_of(response)
            response = await http.get(url, headers=session.headers(accept="text/event-stream"))
            assert response.status_code == 404
            response = await http.delete(url, headers=session.headers())
            assert response.status_code == 404

    run(main())


def test_unsupported_protocol_version(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = modern(7, "tools/list")
            message["params"]["_meta"][META_VERSION] = "1999-01-01"
            headers = modern_headers(message, **{"mcp-protocol-version": "1999-01-01"})
            response = await http.post(url, json=message, headers=headers)
            assert response.status_code == 400
            body = response.json()
            assert body["error"]["code"] == -32022
            assert body["error"]["data"] == {"supported": SUPPORTED, "requested": "1999-01-01"}
            conforms(MODERN, "UnsupportedProtocolVersionError", body)
            await still_serving(http, url)
            # On a stateful session, an unknown version in the header is a 400 too (2025-11-25).
            session = await open_session(http, url, "2025-11-25")
            bad = session.headers(**{"mcp-protocol-version": "1999-01-01"})
            response = await http.post(url, json=call(2, "echo", {"text": "a"}), headers=bad)
            assert response.status_code == 400
            error_of(response)
            await still_serving(http, url, session)

    run(main())


def test_a_session_header_naming_a_revision_the_server_does_not_serve_is_refused() -> None:
    """A server of 2025-11-25 alone: a session's request whose header names 2025-06-18 (a revision
    mcpbind knows, this server does not serve) is unsupported, 400 (2025-06-18 and later); the
    session goes on, and a request with its own header is answered. With no session, the same header
    is an UnsupportedProtocolVersion naming what the server serves."""

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            tools = request(2, "tools/list")
            response = await http.post(
                url, json=tools, headers=session.headers(**{"mcp-protocol-version": "2025-06-18"})
            )
            assert response.status_code == 400, response.text
            assert "2025-06-18" in error_of(response)["message"]
            response = await http.post(url, json=tools, headers=session.headers())
            assert response.status_code == 200 and messages_of(response)[0]["result"]["tools"]
            response = await http.post(
                url, json=tools, headers={"accept": BOTH, "mcp-protocol-version": "2025-06-18"}
            )
            assert response.status_code == 400
            assert error_of(response)["data"] == {"supported": ["2025-11-25"], "requested": "2025-06-18"}

    with serve(FULL, "--revisions", "2025-11-25") as url:
        run(main(url))


def test_a_stateless_only_server_allows_post_alone_and_names_its_revision() -> None:
    """2026-07-28 alone: GET and DELETE are 405 (session id or not); a request of neither era is told
    the header is missing (not to initialize, which it refuses), or that its version is unsupported."""

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            for response in (
                await http.get(url, headers={"accept": "text/event-stream", "mcp-session-id": "s"}),
                await http.delete(url, headers={"mcp-session-id": "s"}),
            ):
                assert response.status_code == 405 and response.headers["allow"] == "POST"
            tools = request(2, "tools/list")
            response = await http.post(url, json=tools, headers={"accept": BOTH})
            assert response.status_code == 400 and error_of(response, MODERN)["code"] == -32020
            response = await http.post(
                url, json=tools, headers={"accept": BOTH, "mcp-protocol-version": "2025-11-25"}
            )
            assert response.status_code == 400
            assert error_of(response, MODERN)["data"] == {"supported": [MODERN], "requested": "2025-11-25"}
            # A session id is ignored (there are none here): the same answer, not 404 for a session.
            response = await http.post(
                url,
                json=tools,
                headers={"accept": BOTH, "mcp-protocol-version": "2025-11-25", "mcp-session-id": "s"},
            )
            assert response.status_code == 400 and response.json()["id"] == 2
            assert error_of(response, MODERN)["data"] == {"supported": [MODERN], "requested": "2025-11-25"}

    with serve(FULL, "--revisions", MODERN) as url:
        run(main(url))


def test_request_metadata_headers_must_match_the_body(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            tool = echo_call(3)
            read = modern(4, "resources/read", {"uri": "memo://hello"})
            prompt = modern(5, "prompts/get", {"name": "greet", "arguments": {"name": "Bo"}})

            def without(message: dict[str, Any], name: str) -> dict[str, str]:
                return {k: v for k, v in modern_headers(message).items() if k != name}

            meta_differs = echo_call(6)
            meta_differs["params"]["_meta"][META_VERSION] = "2025-11-25"
            cases = [
                (tool, without(tool, "mcp-method")),
                (tool, modern_headers(tool, **{"mcp-method": "tools/list"})),
                (tool, modern_headers(tool, **{"mcp-method": "Tools/Call"})),  # values are case-sensitive
                (tool, without(tool, "mcp-name")),
                (tool, modern_headers(tool, **{"mcp-name": "add"})),
                (tool, modern_headers(tool, **{"mcp-name": "Echo"})),
                (tool, without(tool, "mcp-protocol-version")),
                (read, without(read, "mcp-name")),
                (read, modern_headers(read, **{"mcp-name": "memo://bytes"})),
                (prompt, without(prompt, "mcp-name")),
                (meta_differs, modern_headers(meta_differs)),
            ]
            for message, headers in cases:
                response = await http.post(url, json=message, headers=headers)
                assert response.status_code == 400, (headers, response.text)
                body = response.json()
                assert body["error"]["code"] == -32020 and body["id"] == message["id"], body
                conforms(MODERN, "HeaderMismatchError", body)
            await still_serving(http, url)
            # Header names are case-insensitive.
            upper = {k.upper(): v for k, v in modern_headers(tool).items()}
            response = await http.post(url, json=tool, headers=upper)
            assert response.status_code == 200
            for message in (read, prompt):
                response = await http.post(url, json=message, headers=modern_headers(message))
                assert response.status_code == 200, response.text
                check(MODERN, [message], messages_of(response))

    run(main())


def sentinel(value: str) -> str:
    return "=?base64?" + base64.b64encode(value.encode()).decode() + "?="


def test_base64_sentinel_for_names_that_are_not_plain_ascii(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            name = "héllo_世界"
            add = modern(1, "tools/call", {"name": "add_tool", "arguments": {"name": name}})
            assert (await http.post(url, json=add, headers=modern_headers(add))).status_code == 200
            message = modern(2, "tools/call", {"name": name, "arguments": {"text": "ü"}})
            response = await http.post(
                url, json=message, headers=modern_headers(message, **{"mcp-name": sentinel(name)})
            )
            assert response.status_code == 200, response.text
            (answer,) = messages_of(response)
            assert answer["result"]["content"][0]["text"] == "ü"
            check(MODERN, [message], [answer])
            # The sentinel form of a plain name is fine too (decoded before comparing).
            plain = echo_call(3)
            response = await http.post(
                url, json=plain, headers=modern_headers(plain, **{"mcp-name": sentinel("echo")})
            )
            assert response.status_code == 200
            # A resource URI outside the safe set.
            read = modern(4, "resources/read", {"uri": "memo://items/ünï"})
            response = await http.post(
                url, json=read, headers=modern_headers(read, **{"mcp-name": sentinel("memo://items/ünï")})
            )
            assert response.status_code == 200, response.text
            assert json.loads(messages_of(response)[0]["result"]["contents"][0]["text"]) == {"item": "ünï"}
            # Wrong: raw UTF-8 bytes, a sentinel of another name, a sentinel that is not Base64.
            for value in (
                name.encode(),
                sentinel("héllo"),
                "=?base64?!!not base64!!?=",
                "=?BASE64?" + sentinel(name)[9:],
            ):
                response = await http.post(
                    url, json=message, headers=modern_headers(message, **{"mcp-name": value})
                )  # type: ignore[arg-type]
                assert response.status_code == 400, value
                body = response.json()
                assert body["error"]["code"] == -32020
                conforms(MODERN, "HeaderMismatchError", body)
            await still_serving(http, url)

    run(main())


def test_unknown_method_on_the_stateless_wire_is_404(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            for method in (
                "no/such",
                "resources/subscribe",
                "logging/setLevel",
            ):  # the last two: stateful only
                message = modern(8, method, {})
                response = await http.post(url, json=message, headers=modern_headers(message))
                assert response.status_code == 404, (method, response.text)
                body = response.json()
                assert body["id"] == 8 and body["error"]["code"] == -32601
                conforms(MODERN, "JSONRPCErrorResponse", body)
                conforms(MODERN, "MethodNotFoundError", body["error"])
            await still_serving(http, url)

    run(main())


def test_stateless_requests_that_are_not_quite_right_get_the_same_answers(url: str) -> None:
    """A stateless request is parsed once on its way to the handler; whatever that single pass does
    not accept (a bad envelope, `_meta` of the wrong type, no version in `_meta`) is still answered
    with the error that names it, and the server goes on serving."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            good = echo_call(7)
            no_version = json.loads(json.dumps(good))
            del no_version["params"]["_meta"][META_VERSION]
            bad_meta = json.loads(json.dumps(good))
            bad_meta["params"]["_meta"] = 5
            old_envelope = {**good, "jsonrpc": "1.0"}
            array_params = {**good, "params": ["echo"]}
            bool_id = {**good, "id": True}
            bad_arguments = {**good, "params": {**good["params"], "arguments": 5}}
            bad_capabilities = json.loads(json.dumps(good))
            bad_capabilities["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = []
            cases: list[tuple[dict[str, Any], int]] = [
                (no_version, -32602),
                (bad_meta, -32600),
                (old_envelope, -32600),
                (array_params, -32600),
                (bool_id, -32600),
                (bad_arguments, -32602),
                (bad_capabilities, -32602),
            ]
            for message, code in cases:
                headers = modern_headers(good, **{"content-type": "application/json"})
                response = await http.post(url, content=json.dumps(message), headers=headers)
                assert response.status_code == 400, (message, response.text)
                body = response.json()
                assert body["error"]["code"] == code, (message, body)
                conforms(MODERN, "JSONRPCErrorResponse", body)
            response = await http.post(url, json=good, headers=modern_headers(good))
            assert response.status_code == 200
            assert response.json()["result"]["content"] == [{"type": "text", "text": "still here"}]
            await still_serving(http, url)

    run(main())


def test_a_well_formed_stateless_request_is_decoded_in_one_pass() -> None:
    """The single pass is taken (the decoder its headers name is built and kept), and a request it
    cannot decode still gets its precise answer from the general route, in the same app."""
    from mcpbind.server import Server

    server = Server("one-pass", "1.0.0")  # its own: connections are counted on the server

    @server.tool()
    async def echo(text: str) -> str:
        return text

    app = HttpApp(server)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            good = echo_call(8)
            response = await http.post("/mcp", json=good, headers=modern_headers(good))
            assert response.status_code == 200, response.text
            assert response.json()["result"]["content"] == [{"type": "text", "text": "still here"}]
            typed = app.stateless.typed
            assert typed[(MODERN, "tools/call", True)] is not None  # lean: echo takes no Context
            unknown = {**good, "params": {**good["params"], "name": "no-such-tool"}}
            response = await http.post("/mcp", json=unknown, headers=modern_headers(unknown))
            assert response.status_code == 400 and response.json()["error"]["code"] == -32602
            assert typed[(MODERN, "tools/call", False)] is not None
            # Decoded lean, but with a request state to check: the general route reads it all again.
            stated = {**good, "params": {**good["params"], "requestState": "not sealed by this server"}}
            response = await http.post("/mcp", json=stated, headers=modern_headers(stated))
            assert response.status_code == 400, response.text
            assert response.json()["error"]["code"] == -32602
            wrong = {**good, "params": {**good["params"], "arguments": "text"}}
            response = await http.post("/mcp", json=wrong, headers=modern_headers(wrong))
            assert response.status_code == 400 and response.json()["error"]["code"] == -32602
            assert "arguments" in response.json()["error"]["message"]
            # Header values outside the schema leave nothing behind.
            for n in range(20):
                headers = {**modern_headers(good), "mcp-protocol-version": f"1999-01-{n:02}"}
                response = await http.post("/mcp", json=good, headers=headers)
                assert response.status_code == 400
                headers = {**modern_headers(good), "mcp-method": f"tools/{n}"}
                response = await http.post("/mcp", json=good, headers=headers)
                assert response.status_code == 400
            assert sorted(typed) == [(MODERN, "tools/call", False), (MODERN, "tools/call", True)]

    run(main())


def test_tools_without_a_context_are_answered_directly_and_exactly() -> None:
    """A stateless call of a tool that takes no Context is answered without a connection
    (`Server.call_direct`): byte for byte what a connection answers, for every kind of outcome, and
    over HTTP with no connection made, whether the tool finishes at once or waits."""
    from mcpbind.errors import InvalidParams
    from mcpbind.protocol.endpoint import IncomingRequest
    from mcpbind.server import Connection, Server, ToolError

    server = Server("direct", "1.0.0")

    @server.tool()
    async def echo(text: str) -> str:
        return text

    @server.tool()
    async def numbers(n: int) -> list[int]:
        return list(range(n))

    @server.tool()
    def blocks(n: int) -> list[dict[str, Any]]:
        return [{"type": "text", "text": str(i)} for i in range(n)]

    @server.tool()
    async def refuse(why: str) -> str:
        raise ToolError(why)

    @server.tool()
    async def crash(why: str) -> str:
        raise RuntimeError(why)

    @server.tool()
    async def invalid(why: str) -> str:
        raise InvalidParams(why)

    @server.tool()
    async def later(text: str) -> str:
        await asyncio.sleep(0.01)
        return text

    calls: list[tuple[str, dict[str, Any] | None]] = [
        ("echo", {"text": "hi"}),
        ("echo", {"text": 5}),
        ("echo", None),
        ("numbers", {"n": 3}),
        ("blocks", {"n": 2}),
        ("refuse", {"why": "no"}),
        ("crash", {"why": "boom"}),
        ("invalid", {"why": "bad"}),
        ("later", {"text": "waited"}),
    ]
    mod = revisions.module(MODERN)
    decode = wire.decoder(mod.REQUESTS["tools/call"].params_type).decode
    app = HttpApp(server)

    async def main() -> None:
        conn = Connection(server, None)  # type: ignore[arg-type]
        for rid, (name, arguments) in enumerate(calls):
            raw = modern(rid, "tools/call", _drop_none({"name": name, "arguments": arguments}))["params"]
            params = decode(msgspec.json.encode(raw))
            decided = dispatch.decide("tools/call", None, params, revisions.revision(MODERN), server)
            assert decided.direct and dispatch.answerable_directly("tools/call", params, server)
            # The general route, handed the params the classifier decoded (as `StatelessRoute` does).
            channel = Stream(None)
            channel.prepared = Prepared(MODERN, params)
            token = ROUTE.set(channel)
            try:
                general = await conn.on_request(IncomingRequest(rid, "tools/call", None))
            finally:
                ROUTE.reset(token)
            direct = await server.call_direct(rid, decode(msgspec.json.encode(raw)), MODERN)
            assert direct == general, name
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            for rid, name, arguments, status, text in [
                (1, "echo", {"text": "hi"}, 200, "hi"),
                (2, "later", {"text": "waited"}, 200, "waited"),
                (3, "invalid", {"why": "bad"}, 400, None),
            ]:
                message = modern(rid, "tools/call", {"name": name, "arguments": arguments})
                response = await http.post("/mcp", json=message, headers=modern_headers(message))
                assert response.status_code == status, response.text
                if text is not None:
                    assert response.json()["result"]["content"] == [{"type": "text", "text": text}]
        assert not server.connections and not app.stateless.idle  # no connection was needed
        # A client that leaves while the tool waits: the call is cancelled, and nothing is sent.
        message = modern(4, "tools/call", {"name": "later", "arguments": {"text": "gone"}})
        body = msgspec.json.encode(message)
        headers = [(k.encode(), v.encode()) for k, v in modern_headers(message).items()]
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/mcp",
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), *headers],
        }
        inbox = [{"type": "http.request", "body": body}, {"type": "http.disconnect"}]

        async def receive() -> dict[str, Any]:
            return inbox.pop(0) if inbox else await asyncio.Future()

        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        assert sent == []

    run(main())


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("access_log", [False, True])
def test_run_http_serves_without_an_access_log_unless_asked(tmp_path: Any, access_log: bool) -> None:
    """`Server.run_http` starts uvicorn with mcpbind's defaults (`UVICORN_DEFAULTS`): even at log
    level info no access-log line is written, until `access_log=True` is passed."""
    script = str(Path(__file__).resolve().parents[1] / "servers" / "run_http.py")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        with serve(script, "--json", *(["--access-log"] if access_log else []), log=out) as endpoint:

            async def main() -> None:
                async with httpx.AsyncClient(timeout=10) as http:
                    message = echo_call(5, "logged?")
                    response = await http.post(endpoint, json=message, headers=modern_headers(message))
                    assert response.status_code == 200, response.text
                    assert response.json()["result"]["content"][0]["text"] == "logged?"

            run(main())
    text = log.read_text()
    assert "Uvicorn running" in text  # the log level is info: uvicorn's own lines are there
    assert ('"POST /mcp HTTP/1.1" 200' in text) is access_log


def test_get_without_a_session_is_405(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(
                url, headers={"accept": "text/event-stream", "mcp-protocol-version": MODERN}
            )
            assert response.status_code == 405
            assert "POST" in response.headers["allow"]
            await still_serving(http, url)

    run(main())


@pytest.mark.parametrize("revision", ["2025-03-26", "2025-11-25"])
def test_the_get_stream_carries_list_changed(url: str, revision: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, revision)
            opened = asyncio.Event()

            async def listen() -> dict[str, Any]:
                async with http.stream(
                    "GET", url, headers=session.headers(accept="text/event-stream")
                ) as response:
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/event-stream")
                    opened.set()
                    return await first_event(response)

            listener = asyncio.ensure_future(listen())
            await asyncio.wait_for(opened.wait(), 5)
            message = call(2, "add_tool", {"name": f"get_stream_{revision.replace('-', '_')}"})
            response = await http.post(url, json=message, headers=session.headers())
            assert response.status_code == 200
            note = await asyncio.wait_for(listener, 5)
            assert note["method"] == "notifications/tools/list_changed"
            check(revision, [message], [*messages_of(response), note])
            await still_serving(http, url, session)

    run(main())


def test_ending_a_session_ends_its_get_stream(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            opened = asyncio.Event()

            async def listen() -> None:
                async with http.stream(
                    "GET", url, headers=session.headers(accept="text/event-stream")
                ) as response:
                    opened.set()
                    async for _ in response.aiter_bytes():
                        pass

            listener = asyncio.ensure_future(listen())
            await asyncio.wait_for(opened.wait(), 5)
            assert (await http.delete(url, headers=session.headers())).status_code in (200, 204)
            try:
                await asyncio.wait_for(listener, 3)
            except TimeoutError:
                raise AssertionError("the GET stream outlived its session") from None

    run(main())


def test_an_invalid_request_gets_a_complete_answer(url: str) -> None:
    async def answer(
        http: httpx.AsyncClient, message: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        try:
            response = await asyncio.wait_for(http.post(url, json=message, headers=headers), 3)
        except (TimeoutError, httpx.ReadTimeout):
            raise AssertionError(f"no complete answer to {message}") from None
        assert response.status_code in (200, 400), response.text
        (error,) = messages_of(response)
        return error

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            wrong = modern(1, "tools/list")
            wrong["jsonrpc"] = "1.0"
            error = await answer(http, wrong, modern_headers(wrong))
            assert error["id"] == 1 and error["error"]["code"] == -32600
            session = await open_session(http, url, "2025-11-25")
            error = await answer(http, {"id": 2, "method": "ping"}, session.headers())
            assert error["id"] == 2 and error["error"]["code"] == -32600
            # A request id already in use on the session: refused, and the refusal ends the POST.
            slow = asyncio.ensure_future(
                http.post(url, json=call(3, "slow", {"seconds": 1}), headers=session.headers())
            )
            await asyncio.sleep(0.3)
            error = await answer(http, call(3, "echo", {"text": "a"}), session.headers())
            assert error["id"] == 3 and error["error"]["code"] == -32600
            await slow

    run(main())


def test_independent_stateless_requests_may_share_an_id(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=3) as http:

            async def ask(message: dict[str, Any]) -> dict[str, Any]:
                response = await http.post(url, json=message, headers=modern_headers(message))
                assert response.status_code == 200
                (answer,) = messages_of(response)
                return answer

            slow = modern(1, "tools/call", {"name": "slow", "arguments": {"seconds": 0.5}})
            first, second = await asyncio.wait_for(asyncio.gather(ask(slow), ask(echo_call(1, "mine"))), 3)
            assert first["result"]["content"][0]["text"] == "done"
            assert second["result"]["content"][0]["text"] == "mine"

    run(main())


# -- 2. a client that leaves mid-stream -------------------------------------------------------------


def test_leaving_cancels_a_stateless_request(extra_url: str) -> None:
    """2026-07-28: closing the response stream is the cancellation, before or after the first event."""
    url = extra_url

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            before = await cancelled_count(http, url)
            slow = modern(1, "tools/call", {"name": "slow", "arguments": {"seconds": 30}})
            post = asyncio.ensure_future(http.post(url, json=slow, headers=modern_headers(slow)))
            await asyncio.sleep(0.3)
            post.cancel()  # the connection closes before anything was sent
            assert await wait_count(http, url, before + 1) == before + 1
            # The same for a tool answered directly, without a connection (it takes no Context).
            doze = modern(3, "tools/call", {"name": "doze", "arguments": {"seconds": 30}})
            post = asyncio.ensure_future(http.post(url, json=doze, headers=modern_headers(doze)))
            await asyncio.sleep(0.3)
            post.cancel()
            assert await wait_count(http, url, before + 2) == before + 2
            before += 1

            drip = modern(
                2,
                "tools/call",
                {"name": "drip", "arguments": {"seconds": 30}, "_meta": {"progressToken": "d"}},
            )
            async with http.stream("POST", url, json=drip, headers=modern_headers(drip)) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                progress = await first_event(response)
            assert progress["method"] == "notifications/progress"
            check(MODERN, [drip], [progress])
            assert await wait_count(http, url, before + 2) == before + 2
            await still_serving(http, url)

    run(main())


def test_leaving_a_2025_11_25_stream_then_cancelling(extra_url: str) -> None:
    """2025-11-25: a disconnect is no cancellation (the stream may be resumed); the client cancels with
    notifications/cancelled, which ends the handler."""
    url = extra_url

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-11-25")
            before = await cancelled_count(http, url)
            drip = call(2, "drip", {"seconds": 30}, _meta={"progressToken": "d"})
            async with http.stream("POST", url, json=drip, headers=session.headers()) as response:
                progress = await first_event(response)
            assert progress["method"] == "notifications/progress"
            slow = call(3, "slow", {"seconds": 30})
            post = asyncio.ensure_future(http.post(url, json=slow, headers=session.headers()))
            await asyncio.sleep(0.3)
            post.cancel()
            await asyncio.sleep(0.3)
            assert await cancelled_count(http, url) == before  # still running
            sent = [drip, slow]
            for rid in (2, 3):
                note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": rid}}
                sent.append(note)
                response = await http.post(url, json=note, headers=session.headers())
                assert response.status_code == 202
            assert await wait_count(http, url, before + 2) == before + 2
            check("2025-11-25", sent, [progress])
            await still_serving(http, url, session)

    run(main())


def _leaky_app() -> HttpApp:
    extra = load_script(EXTRA, "mcpbind_tests_http_extra")
    return HttpApp(extra.server, keepalive=0.05)


async def _leave(http: httpx.AsyncClient, url: str, message: dict[str, Any], headers: dict[str, str]) -> None:
    """POST `message`, then drop the connection: after its first event when it streams (drip), else
    while waiting for the answer (slow)."""
    if message["params"]["name"] == "drip":
        async with http.stream("POST", url, json=message, headers=headers) as response:
            await first_event(response)
        return
    tag = f"leave-{message['id']}-{id(message)}"
    message["params"]["arguments"]["tag"] = tag
    post = asyncio.ensure_future(http.post(url, json=message, headers=headers))
    for _ in range(200):  # until the tool runs (bounded: 10 s), however slow the machine
        check = modern(901, "tools/call", {"name": "started", "arguments": {"tag": tag}})
        if (await http.post(url, json=check, headers=modern_headers(check))).json()["result"]["content"][0][
            "text"
        ] == "true":
            break
        await asyncio.sleep(0.05)
    post.cancel()


async def _cancel(http: httpx.AsyncClient, url: str, session: Session, rid: int) -> None:
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": rid}}
    assert (await http.post(url, json=note, headers=session.headers())).status_code == 202


def test_no_streams_or_handlers_leak_after_clients_leave() -> None:
    """In-process, to look inside: after disconnects (and, on 2025-11-25, cancellations) nothing of the
    requests is left running, and the session's stream count is back to 0."""
    app = _leaky_app()

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            before = await cancelled_count(http, url)

            def stateless(rid: int, tool: str) -> dict[str, Any]:
                params = {"name": tool, "arguments": {"seconds": 30}, "_meta": {"progressToken": rid}}
                return modern(rid, "tools/call", params)

            await asyncio.gather(
                *(
                    _leave(http, url, m, modern_headers(m))
                    for i in range(1, 21)
                    for m in [stateless(i, "drip")]
                ),
                *(
                    _leave(http, url, m, modern_headers(m))
                    for i in range(21, 31)
                    for m in [stateless(i, "slow")]
                ),
            )
            session = await open_session(http, url, "2025-11-25")
            calls = [
                call(i, "drip" if i <= 10 else "slow", {"seconds": 30}, _meta={"progressToken": i})
                for i in range(1, 16)
            ]
            await asyncio.gather(*(_leave(http, url, m, session.headers()) for m in calls))
            await asyncio.gather(*(_cancel(http, url, session, m["id"]) for m in calls))
            assert await wait_count(http, url, before + 45) == before + 45
            await still_serving(http, url, session)
            await still_serving(http, url)
            # A tool that takes a Context is served on a connection (one without is answered
            # directly): the connection it used is kept for reuse, and checked below.
            shout = modern(99, "tools/call", {"name": "shout"})
            assert (await http.post(url, json=shout, headers=modern_headers(shout))).status_code == 200
            state = app.sessions[session.id]
            for _ in range(50):
                if state.streams == 0:
                    break
                await asyncio.sleep(0.02)
            assert state.streams == 0
            assert not state.conn.peer.running
            # Each stateless request had a connection of its own: what is left of them are idle
            # connections kept for reuse, with nothing running, awaited or listening.
            stateless_left = [c for c in app.server.connections if c.revision is None]
            assert stateless_left and all(c.is_idle() for c in stateless_left)
            assert sorted(map(id, stateless_left)) == sorted(map(id, app.stateless.idle))

    with serve_in_process(app) as url:
        run(main(url))


def test_a_cancelled_requests_stream_is_dropped() -> None:
    app = _leaky_app()

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            before = await cancelled_count(http, url)
            session = await open_session(http, url, "2025-11-25")
            calls = [call(i, "drip", {"seconds": 30}, _meta={"progressToken": i}) for i in range(1, 6)]
            for message in calls:
                await _leave(http, url, message, session.headers())
                await _cancel(http, url, session, message["id"])
            assert await wait_count(http, url, before + 5) == before + 5
            await asyncio.sleep(0.2)
            assert len(getattr(app.sessions[session.id], "open_streams", {})) == 0

    with serve_in_process(app) as url:
        run(main(url))


# -- 3. many concurrent streams ---------------------------------------------------------------------


def _assert_progress_stream(response: httpx.Response, rid: int, token: str) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_messages(response.text)
    assert [e.get("method") for e in events] == ["notifications/progress"] * 3 + [None], events
    assert [(e["params"]["progressToken"], e["params"]["progress"]) for e in events[:3]] == [
        (token, 1),
        (token, 2),
        (token, 3),
    ]
    assert events[3]["id"] == rid and events[3]["result"]["content"][0]["text"] == "progressed"
    return events


def test_200_concurrent_sse_streams(url: str) -> None:
    async def main() -> None:
        limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
        async with httpx.AsyncClient(timeout=20, limits=limits) as http:
            session = await open_session(http, url, "2025-11-25")

            async def stateful(i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
                message = call(i, "progress", {"steps": 3}, _meta={"progressToken": f"s{i}"})
                response = await http.post(url, json=message, headers=session.headers())
                return message, _assert_progress_stream(response, i, f"s{i}")

            async def stateless(i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
                message = modern(
                    i,
                    "tools/call",
                    {"name": "progress", "arguments": {"steps": 3}, "_meta": {"progressToken": f"m{i}"}},
                )
                response = await http.post(url, json=message, headers=modern_headers(message))
                return message, _assert_progress_stream(response, i, f"m{i}")

            for revision, one in (("2025-11-25", stateful), (MODERN, stateless)):
                done = await asyncio.gather(*(one(i) for i in range(1, 201)))
                sent = [m for m, _ in done]
                received = [e for _, events in done for e in events]
                assert check(revision, sent, received) == 200 * 5
            await still_serving(http, url, session)

    run(main(), timeout=45)


# -- 4. mcpbind's client over HTTP: what is HTTP-specific -------------------------------------------


@pytest.mark.parametrize("revision", [*STATEFUL, MODERN])
def test_the_client_deletes_its_session_on_close(url: str, revision: str) -> None:
    async def main() -> None:
        recorder = Recorder(StreamableHttpTransport(url))
        async with Client(recorder, mode=revision) as client:
            assert client.revision == revision
            session_id = recorder.inner.session_id
            assert client.stateless == (revision == MODERN)
            assert (session_id is None) == (revision == MODERN)  # the stateless wire mints none
            assert (await client.call_tool("echo", {"text": "x"})).content[0].text == "x"
        recorder.validate(revision)
        if session_id is None:
            return
        async with httpx.AsyncClient(timeout=10) as http:
            session = Session(url, session_id, revision)
            response = await http.post(url, json=call(9, "echo", {"text": "y"}), headers=session.headers())
            assert response.status_code == 404
            assert (await http.delete(url, headers=session.headers())).status_code == 404
        # The same through the public constructor.
        async with Client.http(url, mode=revision) as client:
            session_id = client.transport.session_id
            assert session_id
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                url, json=call(9, "echo", {"text": "y"}), headers=Session(url, session_id, revision).headers()
            )
            assert response.status_code == 404

    run(main())


def test_keepalive_comments_are_ignored_by_the_client(extra_url: str) -> None:
    url = extra_url

    async def main() -> None:
        # The stream really carries comment lines (every 50 ms on this server).
        async with httpx.AsyncClient(timeout=10) as http:
            listen = modern(
                "raw-listen", "subscriptions/listen", {"notifications": {"toolsListChanged": True}}
            )
            raw = b""
            async with http.stream("POST", url, json=listen, headers=modern_headers(listen)) as response:
                async for chunk in response.aiter_raw():
                    raw += chunk
                    if raw.count(b"\n:") >= 3:
                        break
            assert b"\n:\r\n" in raw or b"\n:\n" in raw
        for revision in (MODERN, "2025-11-25"):  # a listen stream; a GET stream
            changed: list[str] = []
            on_changed = collector(changed)
            recorder = Recorder(StreamableHttpTransport(url))
            async with Client(recorder, mode=revision, on_list_changed=on_changed) as client:
                async with client.listen(tools=True):
                    await asyncio.sleep(0.4)  # several keep-alives
                    await client.call_tool("add_tool", {"name": f"kept_alive_{revision.replace('-', '_')}"})
                    for _ in range(100):
                        if changed:
                            break
                        await asyncio.sleep(0.02)
                    assert changed == ["tools"]
                    assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"
            assert all(frame.strip() for frame in recorder.received)
            recorder.validate(revision)

    run(main())


def test_bearer_token_auth() -> None:
    async def token() -> str:
        return "s3cret"

    async def wrong() -> str:
        return "guess"

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            message = echo_call(1)
            for headers in (
                modern_headers(message),
                modern_headers(message, authorization="Bearer guess"),
                modern_headers(message, authorization="Basic czNjcmV0"),
                modern_headers(message, authorization="Bearer"),
            ):
                response = await http.post(url, json=message, headers=headers)
                assert response.status_code == 401, headers
                assert response.headers["www-authenticate"].lower().startswith("bearer")
            for method in ("GET", "DELETE"):
                response = await http.request(method, url, headers={"accept": "text/event-stream"})
                assert response.status_code == 401 and "www-authenticate" in response.headers
            response = await http.post(
                url, json=message, headers=modern_headers(message, authorization="Bearer s3cret")
            )
            assert response.status_code == 200
        for mode in ("2025-11-25", MODERN, "auto"):
            changed: list[str] = []
            on_changed = collector(changed)
            recorder = Recorder(StreamableHttpTransport(url, auth=token))
            async with Client(recorder, mode=mode, on_list_changed=on_changed) as client:
                assert (await client.call_tool("echo", {"text": "in"})).content[0].text == "in"
                session_id = recorder.inner.session_id
                async with client.listen(tools=True):  # 2025-11-25: on the (authenticated) GET stream
                    await client.call_tool("add_tool", {"name": f"authed_{mode.replace('-', '_')}"})
                    for _ in range(100):
                        if changed:
                            break
                        await asyncio.sleep(0.02)
                assert changed == ["tools"]
            recorder.validate(MODERN if mode == "auto" else mode)
            if session_id is not None:  # the DELETE on close carried the token too
                async with httpx.AsyncClient(timeout=10) as http:
                    headers = Session(url, session_id, mode).headers(authorization="Bearer s3cret")
                    response = await http.post(url, json=call(9, "echo", {"text": "y"}), headers=headers)
                    assert response.status_code == 404
            async with Client.http(url, mode=mode, auth=token) as client:
                assert (await client.call_tool("echo", {"text": "ok"})).content[0].text == "ok"
        for mode in ("2025-11-25", MODERN):
            for auth in (None, wrong):
                with pytest.raises(McpError):
                    async with Client.http(url, mode=mode, auth=auth, request_timeout=5):
                        pass

    with serve(EXTRA, "--token", "s3cret") as url:
        run(main(url))


def test_the_client_encodes_names_that_look_like_the_sentinel(url: str) -> None:
    async def main() -> None:
        async with Client.http(url, mode=MODERN) as client:
            name = "=?base64?YQ==?="
            await client.call_tool("add_tool", {"name": name})
            assert (await client.call_tool(name, {"text": "odd"})).content[0].text == "odd"

    run(main())


def test_the_client_starts_a_new_session_after_404(url: str) -> None:
    async def main() -> None:
        async with Client.http(url, mode="2025-11-25") as client:
            old = client.transport.session_id
            async with httpx.AsyncClient(timeout=10) as http:
                await http.delete(url, headers={"mcp-session-id": old, "mcp-protocol-version": "2025-11-25"})
            with contextlib.suppress(McpError):  # the request that met the 404 may fail ...
                await client.call_tool("echo", {"text": "lost"}, timeout=5)
            # ... but the client then opens a new session, and goes on.
            assert (await client.call_tool("echo", {"text": "again"}, timeout=5)).content[0].text == "again"
            assert client.transport.session_id not in (None, old)

    run(main())
