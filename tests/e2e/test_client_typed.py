"""The typed client against a real server process: the newest revision's types whatever is negotiated,
the typed stub of a pinned revision, and the `_meta` a stateless stub call gets filled in."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.generated import latest
from mcpbind.generated import v2024_11_05 as v2024
from mcpbind.generated import v2026_07_28 as v2026
from mcpbind.protocol import revisions
from mcpbind.transports.stdio import StdioClientTransport

from ..schema_check import Recorder

SERVER = str(Path(__file__).resolve().parents[1] / "servers" / "full.py")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.parametrize("revision", revisions.ALL)
def test_results_are_the_newest_types_whatever_the_revision(revision: Any) -> None:
    async def main() -> None:
        async with Client.stdio(sys.executable, [SERVER], mode=revision, stderr="capture") as client:
            assert client.revision == revision
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert type(added) is latest.CallToolResult and added.result_type == "complete"
            assert type(added.content[0]) is latest.TextContent
            tools = await client.list_tools()
            assert {type(t) for t in tools} == {latest.Tool}
            if revision != "2024-11-05":  # (tool annotations came in 2025-03-26)
                assert next(t for t in tools if t.name == "add").annotations.read_only_hint is True
            read = await client.read_resource("memo://hello")
            assert type(read) is latest.ReadResourceResult
            assert type(read.contents[0]) is latest.TextResourceContents
            prompt = await client.get_prompt("greet", {"name": "Bo"})
            assert type(prompt) is latest.GetPromptResult and type(prompt.messages[0]) is latest.PromptMessage
            assert [type(r) for r in await client.list_resources()] == [latest.Resource] * 2
            assert [type(t) for t in await client.list_resource_templates()] == [latest.ResourceTemplate]
            assert [type(p) for p in await client.list_prompts()] == [latest.Prompt]
            if revision != "2024-11-05":
                done = await client.complete(
                    latest.PromptReference(name="greet"), {"name": "name", "value": "al"}
                )
                assert type(done) is latest.CompleteResult and done.completion.values == ["alice", "albert"]

    run(main())


def test_a_pinned_client_gives_its_revisions_typed_stub() -> None:
    async def main() -> None:
        async with Client.stdio(sys.executable, [SERVER], mode="2024-11-05", stderr="capture") as client:
            stub = client.stub_for("2024-11-05")
            assert type(stub) is v2024.ClientStub
            result = await stub.call_tool(v2024.CallToolRequestParams(name="echo", arguments={"text": "hi"}))
            assert type(result) is v2024.CallToolResult and result.content[0].text == "hi"
            with pytest.raises(ValueError, match="speaks 2024-11-05, not 2026-07-28"):
                client.stub_for("2026-07-28")
            with pytest.raises(ValueError, match="not a stateless revision"):
                client.request_meta()

    run(main())


def test_a_stateless_stub_call_gets_its_meta_filled() -> None:
    recorder = Recorder(StdioClientTransport(sys.executable, [SERVER], stderr="capture"))

    async def main() -> None:
        async with Client(recorder, mode="2026-07-28", log_level="debug") as client:
            stub = client.stub_for("2026-07-28")
            meta = client.request_meta()
            assert meta.protocol_version == "2026-07-28" and meta.client_info.name == "mcpbind"
            listed = await stub.list_tools(v2026.PaginatedRequestParams(meta=meta))
            assert "echo" in [t.name for t in listed.tools]
            # Only what the schema requires is given: the client adds its info and log level, keeps the rest.
            given = v2026.RequestMetaObject(
                protocol_version="2026-07-28", client_capabilities=v2026.ClientCapabilities(), mine="kept"
            )
            answered = await stub.call_tool(
                v2026.CallToolRequestParams(name="echo", arguments={"text": "x"}, meta=given)
            )
            assert isinstance(answered, v2026.CallToolResult) and answered.content[0].text == "x"
            assert "io.modelcontextprotocol/clientInfo" not in given  # the caller's object is left as it was

    run(main())
    (call,) = [m for m in map(json.loads, recorder.sent) if m.get("method") == "tools/call"]
    sent = call["params"]["_meta"]
    assert sent["mine"] == "kept" and sent["io.modelcontextprotocol/clientInfo"]["name"] == "mcpbind"
    assert sent["io.modelcontextprotocol/logLevel"] == "debug"
    assert sent["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
