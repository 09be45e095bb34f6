"""The official Python SDK's client (`mcp` 2.x) against mcpbind's server (tests/servers/full.py).

Over stdio every connection runs through `relay.py`, which records each line both ways; over
Streamable HTTP the SDK's `httpx2` client gets a recording transport, which keeps each request and
response (headers, and the body as far as the SDK read it). The recorded frames are then validated
against the negotiated revision's schema. One connection per transport goes without the recording, so
that the recording cannot be what makes the others pass.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

import httpx2
from mcp import Client as SdkClient
from mcp import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from .common import (
    MCPBIND_SERVER,
    RELAY,
    Exchange,
    RelayLog,
    ServerPool,
    check_http_headers,
    children,
    http_frames,
    run,
    validate,
    wait_gone,
)

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
STATEFUL = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")

#: How long the SDK waits for any one answer.
READ_TIMEOUT = 20.0


@pytest.fixture
def relay_log(tmp_path: Path) -> Iterator[RelayLog]:
    log = RelayLog(tmp_path / "frames.jsonl")
    yield log
    # Whatever the test's outcome, neither the relay nor the server may outlive it.
    if log.path.exists() and any("relay" in e for e in log.entries()):
        for pid in wait_gone(log.pids(), timeout=5.0):
            os.kill(pid, signal.SIGKILL)


def relayed(log: RelayLog, *server_args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[RELAY, str(log.path), "--", sys.executable, MCPBIND_SERVER, *server_args],
    )


def direct(*server_args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[MCPBIND_SERVER, *server_args])


async def all_tools(client: SdkClient) -> list[Any]:
    """Every page of tools/list (full.py pages by three)."""
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools
    raise AssertionError("tools/list never ended")


async def exercise(client: SdkClient) -> None:
    """Lists and calls tools, reads a resource, gets a prompt: what every connection must do."""
    tools = await all_tools(client)
    names = [t.name for t in tools]
    assert names[:3] == ["echo", "add", "fail"] and len(names) == len(set(names)) > 10
    add = next(t for t in tools if t.name == "add")
    assert add.input_schema["properties"]["a"] == {"type": "integer"}
    assert add.input_schema["required"] == ["a"]

    echoed = await client.call_tool("echo", {"text": "hi"})
    assert not echoed.is_error and echoed.content[0].text == "hi"

    added = await client.call_tool("add", {"a": 2, "b": 3})
    assert not added.is_error
    assert json.loads(added.content[0].text) == {"total": 5, "terms": [2, 3]}
    if client.protocol_version >= "2025-06-18":  # structuredContent exists from 2025-06-18 on
        assert added.structured_content == {"total": 5, "terms": [2, 3]}

    failed = await client.call_tool("fail", {"message": "nope"})
    assert failed.is_error and failed.content[0].text == "nope"
    bad = await client.call_tool("add", {"a": "two"})
    assert bad.is_error
    with pytest.raises(MCPError, match="Unknown tool"):
        await client.call_tool("missing", {})

    resources = await client.list_resources()
    assert "memo://hello" in [str(r.uri) for r in resources.resources]
    read = await client.read_resource("memo://hello")
    assert [(str(c.uri), c.text, c.mime_type) for c in read.contents] == [
        ("memo://hello", "hello world", "text/plain")
    ]
    templated = await client.read_resource("memo://items/x")
    assert json.loads(templated.contents[0].text) == {"item": "x"}
    with pytest.raises(MCPError):
        await client.read_resource("memo://nowhere")

    prompts = await client.list_prompts()
    greet = next(p for p in prompts.prompts if p.name == "greet")
    assert [(a.name, a.required) for a in greet.arguments or []] == [("name", True), ("style", False)]
    got = await client.get_prompt("greet", {"name": "Ada"})
    assert [(m.role, m.content.text) for m in got.messages] == [("user", "Greet Ada in a plain way.")]
    with pytest.raises(MCPError):
        await client.get_prompt("missing", {})


async def session(params: StdioServerParameters, mode: str) -> tuple[str, Any]:
    async with SdkClient(params, mode=mode, read_timeout_seconds=READ_TIMEOUT) as client:
        await exercise(client)
        return client.protocol_version, client.server_info


# (SDK client mode, what mcpbind's server is told to serve, the revision they must agree on)
CASES = [
    pytest.param("auto", None, MODERN, id="auto"),
    pytest.param("legacy", None, LEGACY, id="legacy"),
    pytest.param(MODERN, None, MODERN, id="pinned-2026-07-28"),
    pytest.param("auto", ",".join(STATEFUL), LEGACY, id="auto-vs-stateful-only-server"),
    pytest.param("legacy", "2025-06-18", "2025-06-18", id="legacy-vs-2025-06-18-server"),
    pytest.param("legacy", "2025-03-26", "2025-03-26", id="legacy-vs-2025-03-26-server"),
    pytest.param("legacy", "2024-11-05", "2024-11-05", id="legacy-vs-2024-11-05-server"),
]


@pytest.mark.parametrize(("mode", "served", "expected"), CASES)
def test_sdk_client_against_mcpbind_server(
    relay_log: RelayLog, mode: str, served: str | None, expected: str
) -> None:
    server_args = ("--revisions", served) if served else ()
    version, info = run(session(relayed(relay_log, *server_args), mode))
    assert version == expected
    if mode != MODERN:  # a pinned SDK client adopts a synthesized discover result: no serverInfo
        assert info is not None and (info.name, info.version) == ("full", "2.0.0")

    assert not wait_gone(relay_log.pids()), "the relay and the server must be gone"
    frames = relay_log.frames()
    sent = relay_log.methods("client")
    if expected == MODERN:
        assert "initialize" not in sent
        if mode == "auto":
            assert sent[0] == "server/discover"
    else:
        assert sent[0] in ("initialize", "server/discover")
        assert "notifications/initialized" in sent
    # The probe of an auto client that ends up initializing belongs to no stateful revision.
    checked = validate(frames, expected, skip_probe=expected != MODERN)
    assert checked >= 20


def test_sdk_client_without_relay() -> None:
    before = set(children())  # such as HTTP servers other tests share
    for mode, expected in (("auto", MODERN), ("legacy", LEGACY)):
        version, _ = run(session(direct(), mode))
        assert version == expected
        assert not wait_gone(set(children()) - before), "the server must be gone"


def test_sdk_pinned_modern_against_stateful_only_server(relay_log: RelayLog) -> None:
    """A client pinned to 2026-07-28 must be refused (not served) by a server that only initializes."""

    async def main() -> None:
        params = relayed(relay_log, "--revisions", LEGACY)
        async with SdkClient(params, mode=MODERN, read_timeout_seconds=READ_TIMEOUT) as client:
            with pytest.raises(MCPError):
                await client.list_tools()

    run(main())
    assert not wait_gone(relay_log.pids())
    answers = [m for s, m in relay_log.frames() if s == "server"]
    assert answers and all("error" in m for m in answers)


# -- Streamable HTTP ------------------------------------------------------------------------------------


class _Tee(httpx2.AsyncByteStream):
    """A response body that keeps each chunk the SDK reads."""

    def __init__(self, inner: httpx2.AsyncByteStream, chunks: list[bytes]) -> None:
        self.inner, self.chunks = inner, chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            self.chunks.append(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class RecordingTransport(httpx2.AsyncBaseTransport):
    """The SDK's HTTP traffic, recorded below its `httpx2.AsyncClient`: every exchange, in the order
    the responses started."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        exchange = Exchange(
            request.method,
            {k.lower(): v for k, v in request.headers.items()},
            body,
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
        )
        self.exchanges.append(exchange)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _Tee(response.stream, exchange.chunks)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def http_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path_factory.mktemp("http"))
    yield pool
    assert not pool.close(), "every HTTP server must stop on SIGTERM"


@asynccontextmanager
async def http_session(url: str, mode: str) -> AsyncIterator[tuple[SdkClient, RecordingTransport]]:
    recording = RecordingTransport()
    timeout = httpx2.Timeout(10.0, read=READ_TIMEOUT * 2)
    async with httpx2.AsyncClient(transport=recording, timeout=timeout) as http:
        transport = streamable_http_client(url, http_client=http)
        async with SdkClient(transport, mode=mode, read_timeout_seconds=READ_TIMEOUT) as client:
            yield client, recording


async def check_progress(client: SdkClient) -> None:
    """`progress` with a progress token: mcpbind streams the notifications (SSE) before the result."""
    steps: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        steps.append((progress, total, message))

    result = await client.call_tool("progress", {"steps": 3}, progress_callback=on_progress)
    assert not result.is_error and result.content[0].text == "progressed"
    with_message = client.protocol_version >= "2025-03-26"  # progress messages exist from 2025-03-26 on
    assert steps == [(i, 3, f"step {i}" if with_message else None) for i in (1, 2, 3)]


def answer(exchanges: list[Exchange], tool: str) -> Exchange:
    (found,) = [e for e in exchanges if e.calls("tools/call", tool)]
    return found


#: The same cases over Streamable HTTP.
HTTP_CASES = CASES


@pytest.mark.parametrize(("mode", "served", "expected"), HTTP_CASES)
def test_sdk_http_client_against_mcpbind_server(
    http_servers: ServerPool, mode: str, served: str | None, expected: str
) -> None:
    server = http_servers.get(MCPBIND_SERVER, *(("--revisions", served) if served else ()))

    async def main() -> tuple[str, Any, RecordingTransport]:
        async with http_session(server.url, mode) as (client, recording):
            await exercise(client)
            await check_progress(client)
            return client.protocol_version, client.server_info, recording

    version, info, recording = run(main())
    assert version == expected
    if mode != MODERN:  # a pinned SDK client adopts a synthesized discover result: no serverInfo
        assert info is not None and (info.name, info.version) == ("full", "2.0.0")
    assert server.alive(), server.log()

    exchanges = recording.exchanges
    modern = expected == MODERN
    check_http_headers([e for e in exchanges if not e.calls("server/discover")], expected, modern)
    # mcpbind answers with JSON unless something precedes the result; progress makes it an SSE stream.
    assert answer(exchanges, "echo").content_type == "application/json"
    streamed = answer(exchanges, "progress")
    assert streamed.content_type == "text/event-stream"
    assert [m.get("method") for m in streamed.server_messages()] == [*["notifications/progress"] * 3, None]
    sent = [m["method"] for s, m in http_frames(exchanges) if s == "client" and "method" in m]
    if modern:
        assert "initialize" not in sent
        assert sent[0] == ("server/discover" if mode == "auto" else "tools/list")
    else:
        assert sent[0] in ("initialize", "server/discover")
        assert "notifications/initialized" in sent
        assert exchanges[-1].method == "DELETE" and exchanges[-1].status == 200, "the SDK ends its session"
    checked = validate(http_frames(exchanges), expected, skip_probe=not modern)
    assert checked >= 20


def test_sdk_http_client_without_recording(http_servers: ServerPool) -> None:
    """The SDK's own HTTP client, from a bare URL: nothing of the test's between the two."""
    server = http_servers.get(MCPBIND_SERVER)

    async def main(mode: str) -> str:
        async with SdkClient(server.url, mode=mode, read_timeout_seconds=READ_TIMEOUT) as client:
            await exercise(client)
            await check_progress(client)
            return client.protocol_version

    for mode, expected in (("auto", MODERN), ("legacy", LEGACY), (MODERN, MODERN)):
        assert run(main(mode)) == expected
    assert server.alive(), server.log()


def test_sdk_http_pinned_modern_against_stateful_only_server(http_servers: ServerPool) -> None:
    """A client pinned to 2026-07-28 must be refused (not served) by a server that only initializes."""
    server = http_servers.get(MCPBIND_SERVER, "--revisions", LEGACY)

    async def main() -> RecordingTransport:
        async with http_session(server.url, MODERN) as (client, recording):
            with pytest.raises(MCPError):
                await client.list_tools()
            return recording

    recording = run(main())
    answers = [m for s, m in http_frames(recording.exchanges) if s == "server"]
    assert answers and all("error" in m for m in answers)
    assert all(e.status >= 400 for e in recording.exchanges)
