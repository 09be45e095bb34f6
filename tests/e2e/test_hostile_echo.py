"""Client values an error echoes (an unknown tool, method, prompt, resource or task; a header that
does not match its body; an input response that is not what was asked) are quoted at most 64
characters long, with their length, over stdio and HTTP, in both eras: an answer never carries back
a value as large as the body that brought it. (The 64 characters are `errors.QUOTED_LIMIT`.)"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.transports.stdio import StdioClientTransport

from ..http_support import (
    MODERN,
    SERVERS,
    call,
    error_of,
    messages_of,
    modern,
    modern_headers,
    open_session,
    request,
    serve,
)
from ..stdio_support import LineProcess, StdioServer

TASKS = str(Path(__file__).resolve().parents[1] / "servers" / "tasks.py")


def long_value(size: int) -> str:
    return "x" * (size - 1) + "!"


def asks(name: str) -> list[tuple[str, dict[str, Any]]]:
    """Requests naming `name` where the server looks it up and finds nothing."""
    return [
        ("tools/call", {"name": name, "arguments": {}}),
        ("prompts/get", {"name": name}),
        ("resources/read", {"uri": "file:///" + name}),
        (name, {}),  # an unknown method
    ]


def assert_quoted(message: str, value: str) -> None:
    """`message` quotes `value` (or the URI made of it) cut short, with its length."""
    assert len(message) < 400, message[:500]
    assert value not in message, message[:500]
    lengths = (f"({len(value)} characters)", f"({len(value) + len('file:///')} characters)")
    assert any(length in message for length in lengths), message


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_stdio_errors_quote_client_values(revision: str) -> None:
    name = long_value(100_000)
    server = StdioServer(revision)
    try:
        for method, params in asks(name):
            answer = server.request(server.message(method, params))
            assert_quoted(answer["error"]["message"], name)
        server.ping()
    finally:
        server.stop()


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_a_missing_resources_uri_comes_back_clipped_in_its_data(revision: str) -> None:
    """A resource-not-found error's `data.uri` (-32002 in a session, -32602 in 2026-07-28) carries a
    URI of a usual size whole, and a megabyte one cut at 1024 characters with its length: the answer
    is no larger than the URI's first kilobyte (it was the whole megabyte, twice)."""
    server = StdioServer(revision)
    try:
        usual = "file:///nowhere/" + "a" * 900
        answer = server.request(server.message("resources/read", {"uri": usual}))
        assert answer["error"]["data"] == {"uri": usual}
        huge = "file:///" + long_value(1_000_000)
        answer = server.request(server.message("resources/read", {"uri": huge}))
        assert answer["error"]["code"] == (-32602 if revision == "2026-07-28" else -32002)
        assert answer["error"]["data"] == {"uri": f"{huge[:1024]}... ({len(huge)} characters)"}
        assert len(json.dumps(answer)) < 1500
        server.ping()
    finally:
        server.stop()


def test_an_unsupported_versions_data_carries_it_clipped() -> None:
    """The -32022 error's `data.requested` (2026-07-28: the version a request named) carries the
    client's version clipped at 1024 characters with its length, over stdio, over HTTP (its header),
    and from the schema-exact server (it was the whole value, 100 kB as sent)."""
    version = long_value(100_000)
    clipped = f"{version[:1024]}... ({len(version)} characters)"
    server = StdioServer(MODERN)
    try:
        answer = server.request(modern("v1", "tools/list", version=version))
        assert answer["error"]["data"]["requested"] == clipped and len(json.dumps(answer)) < 1500
        server.ping()
    finally:
        server.stop()
    lowlevel = LineProcess([sys.executable, str(SERVERS / "lowlevel.py"), MODERN])
    try:
        lowlevel.write_lines(
            [json.dumps(modern("v2", "tools/call", {"name": "named"}, version=version)).encode()]
        )
        (answer,) = lowlevel.lines(1)
        assert answer["error"]["data"]["requested"] == clipped and len(json.dumps(answer)) < 1500
    finally:
        lowlevel.close()
    header = long_value(10_000)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            message = request(1, "tools/list")  # (no version in its body: the header's is judged)
            odd = await http.post(
                url, json=message, headers=modern_headers(message, **{"mcp-protocol-version": header})
            )
            assert odd.status_code == 400
            assert error_of(odd, MODERN)["data"]["requested"] == f"{header[:1024]}... (10000 characters)"

    with serve() as url:
        asyncio.run(asyncio.wait_for(main(url), 60))


def test_http_session_errors_quote_client_values() -> None:
    name = long_value(5_000)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            session = await open_session(http, url, "2025-11-25")
            for rid, (method, params) in enumerate(asks(name), 10):
                answer = await http.post(url, json=request(rid, method, params), headers=session.headers())
                assert_quoted(messages_of(answer)[0]["error"]["message"], name)
            # A session's version header that no revision has.
            odd = await http.post(
                url, json=call(2, "echo"), headers=session.headers(**{"mcp-protocol-version": name})
            )
            assert odd.status_code == 400
            assert_quoted(error_of(odd)["message"], name)

    with serve() as url:
        asyncio.run(asyncio.wait_for(main(url), 60))


def test_stateless_http_errors_quote_client_values() -> None:
    name = long_value(5_000)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            for rid, (method, params) in enumerate(asks(name), 10):
                message = modern(rid, method, params)
                answer = await http.post(url, json=message, headers=modern_headers(message))
                error = answer.json()["error"]
                assert_quoted(error["message"], name)
            # Headers that do not match the body.
            message = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "a"}})
            for header in ("mcp-name", "mcp-method"):
                odd = await http.post(url, json=message, headers=modern_headers(message, **{header: name}))
                assert odd.status_code == 400
                assert_quoted(error_of(odd, MODERN)["message"], name)
            origin = await http.post(
                url, json=message, headers=modern_headers(message, origin="http://" + name)
            )
            assert origin.status_code == 403
            assert_quoted(error_of(origin, MODERN)["message"], "http://" + name)

    with serve() as url:
        asyncio.run(asyncio.wait_for(main(url), 60))


def test_unknown_task_ids_are_quoted() -> None:
    task_id = long_value(100_000)

    async def main() -> None:
        transport = StdioClientTransport(sys.executable, [TASKS], stderr="capture")
        async with Client(transport, mode="2025-11-25") as client:
            with pytest.raises(McpError) as missing:
                await client.request("tasks/get", {"taskId": task_id})
            assert_quoted(missing.value.message, task_id)

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("version", [20260728, 2026.5, True, ["2026-07-28"]])
def test_a_version_that_is_no_text_comes_back_as_its_json_text_from_either_server(version: Any) -> None:
    """`data.requested` is a string in the schema: a version that is a number, a boolean or a list
    comes back as its JSON text, from the high-level server and the schema-exact one alike (the
    schema-exact server sent a number or a boolean back as it came)."""
    message = modern("v1", "tools/call", {"name": "named"})
    message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = version
    expected = json.dumps(version, separators=(",", ":"))
    server = StdioServer(MODERN)
    try:
        answer = server.request(message)
        assert answer["error"]["code"] == -32022 and answer["error"]["data"]["requested"] == expected
    finally:
        server.stop()
    lowlevel = LineProcess([sys.executable, str(SERVERS / "lowlevel.py"), MODERN])
    try:
        lowlevel.write_lines([json.dumps(message).encode()])
        (answer,) = lowlevel.lines(1)
        assert answer["error"]["code"] == -32022 and answer["error"]["data"]["requested"] == expected
    finally:
        lowlevel.close()
