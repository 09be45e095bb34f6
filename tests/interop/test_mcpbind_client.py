"""mcpbind's client against a stdio server written with the official Python SDK (sdk_server.py).

Every frame each side sends is recorded by `Recorder` and validated against the negotiated
revision's schema.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from mcpbind import revisions
from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.stdio import StdioClientTransport

from ..schema_check import Recorder
from .common import SDK_SERVER, run

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


async def exercise(client: Client) -> None:
    tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == {"echo", "add", "fail"}
    assert tools["add"].input_schema["properties"]["a"]["type"] == "integer"
    assert tools["add"].input_schema["required"] == ["a"]
    assert tools["echo"].description == "Say `text` back."

    echoed = await client.call_tool("echo", {"text": "hi"})
    assert echoed.is_error is not True
    assert text(echoed) == "hi"

    added = await client.call_tool("add", {"a": 2, "b": 3})
    assert json.loads(text(added)) == {"total": 5, "terms": [2, 3]}
    if "structured_content" in type(added).__struct_fields__:  # from 2025-06-18 on
        assert added.structured_content == {"total": 5, "terms": [2, 3]}
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
