"""mcpbind's client against a server written with the official Python SDK (sdk_server.py), over
stdio and over Streamable HTTP (the SDK's server answering with SSE streams, or with JSON bodies).

Every frame each side sends is recorded by `Recorder` and validated against the negotiated
revision's schema; over HTTP the client's `observe` hook also keeps each request's headers and body
and each response's status and headers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from msgspec import UNSET

pytest.importorskip("mcp")

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.protocol import revisions
from mcpbind.transports.http.client import StreamableHttpTransport
from mcpbind.transports.http.http11 import HttpClient, Observed
from mcpbind.transports.stdio import StdioClientTransport

from ..schema_check import Recorder
from .common import SDK_SERVER, Exchange, ServerPool, check_http_headers, run

#: Revisions both sides speak, by era.
BOTH_STATEFUL = [r for r in revisions.STATEFUL if r in HANDSHAKE_PROTOCOL_VERSIONS]
BOTH_MODERN = [r for r in revisions.MODERN if r in MODERN_PROTOCOL_VERSIONS]
NEWEST = (BOTH_MODERN or BOTH_STATEFUL)[-1]

#: mcpbind waits this long for any one answer (and for the auto probe).
REQUEST_TIMEOUT = 20.0


@asynccontextmanager
async def connect(mode: str) -> AsyncIterator[tuple[Client, Recorder]]:
    transport = StdioClientTransport(sys.executable, [SDK_SERVER], stderr="capture", shutdown_timeout=3.0)
    recorder = Recorder(transport)
    client = Client(recorder, mode=mode, request_timeout=REQUEST_TIMEOUT, probe_timeout=REQUEST_TIMEOUT)
    try:
        async with client:
            yield client, recorder
    finally:
        process = transport.process
        if process is not None and process.returncode is None:  # only if close() itself failed
            process.kill()
            await process.wait()
    assert process is not None and process.returncode is not None, "the SDK server must be gone"


def text(result: Any) -> str:
    return str(result.content[0].text)


async def exercise(client: Client, *, progress: bool = True) -> None:
    """What every connection must do; `progress`: whether progress notifications reach the client
    (the SDK's JSON-response HTTP mode drops them)."""
    tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == {"echo", "add", "fail", "progress", "locate"}
    assert tools["add"].input_schema["properties"]["a"]["type"] == "integer"
    assert tools["add"].input_schema["required"] == ["a"]
    assert tools["echo"].description == "Say `text` back."

    echoed = await client.call_tool("echo", {"text": "hi"})
    assert echoed.is_error is not True
    assert text(echoed) == "hi"

    added = await client.call_tool("add", {"a": 2, "b": 3})
    assert json.loads(text(added)) == {"total": 5, "terms": [2, 3]}
    # Results come in the newest revision's types; structured content exists from 2025-06-18 on.
    if client.revision >= "2025-06-18":
        assert added.structured_content == {"total": 5, "terms": [2, 3]}
    else:
        assert added.structured_content is UNSET
    bad = await client.call_tool("add", {"a": "two"})
    assert bad.is_error is True
    failed = await client.call_tool("fail", {"message": "nope"})
    assert failed.is_error is True and "nope" in text(failed)
    try:  # the spec allows either a protocol error or a tool error for an unknown tool
        unknown = await client.call_tool("missing", {})
    except McpError:
        pass
    else:
        assert unknown.is_error is True and "missing" in text(unknown)

    steps: list[tuple[float, float | None, str | None]] = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        steps.append((p, total, message))

    assert text(await client.call_tool("progress", {"steps": 3}, progress=on_progress)) == "progressed"
    if not progress:
        assert steps == []
    elif client.revision >= "2025-03-26":  # progress messages exist from 2025-03-26 on
        assert steps == [(i, 3, f"step {i}") for i in (1, 2, 3)]
    else:  # the SDK sends its message on 2024-11-05 too; mcpbind passes it on
        assert [(p, total) for p, total, _ in steps] == [(i, 3) for i in (1, 2, 3)]

    resources = await client.list_resources()
    assert [r.uri for r in resources] == ["memo://hello"]
    read = await client.read_resource("memo://hello")
    assert [(c.uri, c.text, c.mime_type) for c in read.contents] == [
        ("memo://hello", "hello from the sdk", "text/plain")
    ]
    templates = await client.list_resource_templates()
    assert [t.uri_template for t in templates] == ["memo://items/{item}"]
    item = await client.read_resource("memo://items/x")
    assert json.loads(item.contents[0].text) == {"item": "x"}
    with pytest.raises(McpError):
        await client.read_resource("memo://nowhere")

    prompts = await client.list_prompts()
    greet = next(p for p in prompts if p.name == "greet")
    assert [(a.name, a.required) for a in greet.arguments] == [("name", True), ("style", False)]
    got = await client.get_prompt("greet", {"name": "Ada", "style": "poetic"})
    assert [(m.role, m.content.text) for m in got.messages] == [("user", "Greet Ada in a poetic way.")]
    with pytest.raises(McpError):
        await client.get_prompt("missing", {})


# (mcpbind client mode, the revision both sides must end up on)
CASES = [
    pytest.param("auto", NEWEST, id="auto"),
    pytest.param("legacy", BOTH_STATEFUL[-1], id="legacy"),
    *(pytest.param(r, r, id=f"pinned-{r}") for r in BOTH_STATEFUL + BOTH_MODERN),
]


@pytest.mark.parametrize(("mode", "expected"), CASES)
def test_mcpbind_client_against_sdk_server(mode: str, expected: str) -> None:
    async def main() -> Recorder:
        async with connect(mode) as (client, recorder):
            assert client.revision == expected
            assert client.stateless is revisions.is_modern(expected)
            assert client.server_info.get("name") == "sdk-interop"
            assert client.server_info.get("version") == "1.2.3"
            assert "tools" in client.server_capabilities
            await exercise(client)
            return recorder

    recorder = run(main())
    sent = [json.loads(f) for f in recorder.sent]
    methods = [m.get("method") for m in sent if isinstance(m, dict)]
    if revisions.is_modern(expected):
        assert "initialize" not in methods
        assert methods[0] == "server/discover"
    else:
        assert methods[:2] == ["initialize", "notifications/initialized"]
    assert recorder.validate(expected) >= 20


# -- Streamable HTTP ------------------------------------------------------------------------------------

#: The SDK's HTTP server as started: answering with SSE streams, or with JSON bodies (`--json`).
FLAVOURS = {"sse": (), "json": ("--json",)}


@pytest.fixture(scope="module")
def sdk_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path_factory.mktemp("http"))
    yield pool
    assert not pool.close(), "every SDK HTTP server must stop on SIGTERM"


def _observer(exchanges: list[Exchange]) -> Callable[[Observed], None]:
    """Keeps each request (method, headers, body) and its response's status and headers."""

    def observe(seen: Observed) -> None:
        headers = {k.lower(): v for k, v in seen.headers.items()}
        exchanges.append(Exchange(seen.method, headers, seen.body, seen.status, seen.response_headers))

    return observe


@asynccontextmanager
async def connect_http(url: str, mode: str) -> AsyncIterator[tuple[Client, Recorder, list[Exchange]]]:
    exchanges: list[Exchange] = []
    http = HttpClient(read_timeout=REQUEST_TIMEOUT * 2, observe=_observer(exchanges))
    try:
        recorder = Recorder(StreamableHttpTransport(url, client=http, timeout=REQUEST_TIMEOUT * 2))
        async with Client(
            recorder, mode=mode, request_timeout=REQUEST_TIMEOUT, probe_timeout=REQUEST_TIMEOUT
        ) as client:
            yield client, recorder, exchanges
    finally:
        await http.close()


def test_a_server_slower_than_the_probe_is_still_reached_in_its_era() -> None:
    """The SDK server starts after the client's probe gave up: it answers the probe late, takes the
    connection for the stateless era and refuses the fallback `initialize` with -32022, naming its
    versions. The client asks once more at the newest version both speak instead of failing."""

    async def main() -> str:
        args = [SDK_SERVER, "--slow-start", "2"]
        transport = StdioClientTransport(sys.executable, args, stderr="capture", shutdown_timeout=3.0)
        async with Client(
            transport, mode="auto", request_timeout=REQUEST_TIMEOUT, probe_timeout=0.5
        ) as client:
            assert text(await client.call_tool("echo", {"text": "late"})) == "late"
            return client.revision

    assert run(main()) == NEWEST


def posts_of(exchanges: list[Exchange], method: str) -> list[Exchange]:
    return [e for e in exchanges if e.calls(method)]


@pytest.mark.parametrize("flavour", list(FLAVOURS))
@pytest.mark.parametrize(("mode", "expected"), CASES)
def test_mcpbind_http_client_against_sdk_server(
    sdk_http: ServerPool, flavour: str, mode: str, expected: str
) -> None:
    server = sdk_http.get(SDK_SERVER, *FLAVOURS[flavour])
    modern = revisions.is_modern(expected)

    async def main() -> tuple[Recorder, list[Exchange]]:
        async with connect_http(server.url, mode) as (client, recorder, exchanges):
            assert client.revision == expected
            assert client.stateless is modern
            assert client.server_info.get("name") == "sdk-interop"
            assert client.server_info.get("version") == "1.2.3"
            assert "tools" in client.server_capabilities
            await exercise(client, progress=flavour == "sse")
        return recorder, exchanges

    recorder, exchanges = run(main())
    assert server.alive(), server.log()
    methods = [m.get("method") for m in map(json.loads, recorder.sent) if isinstance(m, dict)]
    if modern:
        assert "initialize" not in methods
        assert methods[0] == "server/discover"
    else:
        assert methods[:2] == ["initialize", "notifications/initialized"]
        assert exchanges[-1].method == "DELETE" and exchanges[-1].status == 200, "mcpbind ends its session"
    check_http_headers(exchanges, expected, modern)

    # How the SDK answered: JSON bodies in JSON mode; otherwise SSE streams for every request of a
    # stateful session, and on 2026-07-28 for requests whose handler notifies first (progress).
    answers = {e.content_type for e in exchanges if e.method == "POST" and e.status != 202}
    progress = posts_of(exchanges, "tools/call")[-1]
    assert progress.calls("tools/call", "progress")
    if flavour == "json":
        assert answers == {"application/json"}
    elif modern:
        assert answers == {"application/json", "text/event-stream"}
        assert progress.content_type == "text/event-stream"
        assert {e.content_type for e in posts_of(exchanges, "tools/list")} == {"application/json"}
    else:
        assert answers == {"text/event-stream"}
    assert recorder.validate(expected) >= 20


def test_mcpbind_http_client_without_recording(sdk_http: ServerPool) -> None:
    """`Client.http(url)` as an application writes it: nothing of the test's between the two."""
    server = sdk_http.get(SDK_SERVER)

    async def main(mode: str) -> str:
        async with Client.http(server.url, mode=mode, request_timeout=REQUEST_TIMEOUT) as client:
            await exercise(client)
            return client.revision

    for mode, expected in (("auto", NEWEST), ("legacy", BOTH_STATEFUL[-1]), (NEWEST, NEWEST)):
        assert run(main(mode)) == expected
    assert server.alive(), server.log()


#: Both eras: the header mirroring only exists on the stateless wire, and must not break the other.
HTTP_MODES = [pytest.param("legacy", id="legacy"), *(pytest.param(r, id=r) for r in BOTH_MODERN)]


@pytest.mark.parametrize("mode", HTTP_MODES)
def test_mcpbind_http_client_mirrors_x_mcp_header_arguments(sdk_http: ServerPool, mode: str) -> None:
    """The SDK's `locate` tool marks `region` with `x-mcp-header: Region`: on 2026-07-28 every call
    must carry `Mcp-Param-Region: <region>`, or the SDK refuses it."""
    server = sdk_http.get(SDK_SERVER)

    async def main() -> list[Exchange]:
        async with connect_http(server.url, mode) as (client, _, exchanges):
            tools = {t.name: t for t in await client.list_tools()}
            assert tools["locate"].input_schema["properties"]["region"]["x-mcp-header"] == "Region"
            assert text(await client.call_tool("locate", {"region": "eu-west"})) == "region eu-west"
            return exchanges

    exchanges = run(main())
    if revisions.is_modern(mode):
        (call,) = posts_of(exchanges, "tools/call")
        assert call.request_headers.get("mcp-param-region") == "eu-west"


@pytest.mark.parametrize("mode", HTTP_MODES)
def test_mcpbind_http_client_wraps_names_that_look_base64_wrapped(sdk_http: ServerPool, mode: str) -> None:
    """A prompt named `=?base64?aGk=?=`: its `Mcp-Name` must be Base64-wrapped itself, or it reads as "hi"."""
    server = sdk_http.get(SDK_SERVER)

    async def main() -> None:
        async with connect_http(server.url, mode) as (client, _, _):
            got = await client.get_prompt("=?base64?aGk=?=", {})
            assert [m.content.text for m in got.messages] == ["Not base64."]

    run(main())
