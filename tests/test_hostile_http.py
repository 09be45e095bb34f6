"""Streamable HTTP against hostile or careless clients: every bad request gets a clear HTTP error with a
JSON-RPC error body, nothing waits forever, memory stays bounded, and one user's state is no other's.

The server is mcpbind's ASGI app under a real uvicorn on loopback (tests/servers/http_extra.py in a
subprocess, or in a thread of this process where a test looks inside the app). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Iterator
from typing import Any

import httpx
import pytest

from mcpbind import revisions

from .http_support import (
    BOTH,
    EXTRA,
    MODERN,
    error_of,
    load_script,
    modern,
    modern_headers,
    open_session,
    serve,
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
    host, port = url.split("//")[1].split("/")[0].split(":")
    head = [
        "POST /mcp HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    head += [f"{k}: {v}" for k, v in headers]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


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
                    b"\xef\xbb\xbf\x80",
                ):
                    response = await http.post(
                        url, content=body, headers={**headers, "content-type": "application/json"}
                    )
                    assert response.status_code == 400, (body, response.text)
                    assert error_of(response)["code"] == -32700

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
        ("MCP-Protocol-Version", MODERN),
        ("Mcp-Session-Id", "x"),
    ]:
        headers = [*base, (name, value)]
        if name == "Mcp-Session-Id":
            headers.append((name, "y"))
        status, answer = raw_post(url, body, headers)
        assert status == 400, (name, answer)
        error = json.loads(answer)["error"]
        assert error["code"] == -32600 and name.lower() in error["message"].lower()
    status, answer = raw_post(url, body, [*base, ("Mcp-Param-Region", "a"), ("mcp-param-region", "b")])
    assert status == 400, answer


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
