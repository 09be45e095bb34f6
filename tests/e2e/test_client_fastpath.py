"""The client's short paths against a real server process: a plain answer by `ClientPeer`'s short path,
anything else by the full one, with the same outcome; the stateless `_meta` made again when what it is
made of changes; many calls in flight, each with its own answer."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.generated import latest
from mcpbind.protocol import revisions
from mcpbind.transports.http.client import StreamableHttpTransport
from mcpbind.transports.http.http11 import HttpClient, Observed
from mcpbind.transports.stdio import StdioClientTransport

from ..http_support import full_server_over_http
from ..schema_check import Recorder

SERVER = str(Path(__file__).resolve().parents[1] / "servers" / "full.py")
ERAS = ["2025-11-25", "2026-07-28"]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 120))


@pytest.mark.parametrize("revision", ERAS)
def test_many_calls_in_flight_each_get_their_own_typed_answer(revision: str) -> None:
    async def main() -> None:
        async with Client.stdio(sys.executable, [SERVER], mode=revision, stderr="capture") as client:

            async def add(i: int) -> None:
                result = await client.call_tool("add", {"a": i, "b": 1000})
                assert type(result) is latest.CallToolResult
                assert json.loads(result.content[0].text)["total"] == i + 1000

            await asyncio.gather(*(add(i) for i in range(200)))
            # Non-ASCII answers take the full path (their UTF-8 is checked there): same outcome.
            text = "héllo ✓"
            echoed = await client.call_tool("echo", {"text": text})
            assert echoed.content[0].text == text
            # An error answer: the full path maps it to the exception, the session goes on.
            with pytest.raises(McpError):
                await client.request("no/such/method")
            after = await client.call_tool("add", {"a": 1, "b": 2})
            assert json.loads(after.content[0].text)["total"] == 3
            assert client.peer.load.waiting == 0 and client.peer.endpoint.pending == 0

    run(main())


def test_the_stateless_meta_follows_the_client_info_and_log_level() -> None:
    recorder = Recorder(StdioClientTransport(sys.executable, [SERVER], stderr="capture"))

    def last_meta() -> dict[str, Any]:
        calls = [json.loads(m) for m in recorder.sent if b'"tools/call"' in m]
        meta: dict[str, Any] = calls[-1]["params"]["_meta"]
        return meta

    async def main() -> None:
        async with Client(recorder, mode="2026-07-28") as client:
            await client.call_tool("add", {"a": 1, "b": 2})
            first = last_meta()
            assert first[revisions.META_CLIENT]["version"] == client.info["version"]
            assert revisions.META_LOG_LEVEL not in first
            await client.call_tool("add", {"a": 1, "b": 2})
            assert last_meta() == first
            client.info["version"] = "9.9"  # changed in place
            await client.set_level("error")
            await client.call_tool("add", {"a": 1, "b": 2})
            second = last_meta()
            assert second[revisions.META_CLIENT]["version"] == "9.9"
            assert second[revisions.META_LOG_LEVEL] == "error"
            # A caller's own `_meta` members go with what every request carries.
            await client.request(
                "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": {"k": 1}}
            )
            own = last_meta()
            assert own["k"] == 1 and own[revisions.META_CLIENT]["version"] == "9.9"

    run(main())


@pytest.mark.parametrize("revision", ERAS)
def test_http_requests_carry_their_own_headers_made_once(revision: str) -> None:
    seen: list[Observed] = []

    async def main() -> None:
        async with full_server_over_http() as url:
            http = HttpClient(observe=seen.append)
            # (the session's GET stream too: its headers are its own, not those kept for POSTs)
            transport = StreamableHttpTransport(url, client=http, get_stream=True)
            async with Client(transport, mode=revision) as client:
                for name, arguments in [("add", {"a": 1, "b": 2}), ("echo", {"text": "x"})] * 3:
                    await client.call_tool(name, arguments)
                await asyncio.sleep(0)
            await http.close()

    run(main())
    calls = [o for o in seen if o.method == "POST" and b'"tools/call"' in o.body]
    assert len(calls) == 6
    for observed in calls:
        assert observed.headers["accept"] == "application/json, text/event-stream"
        assert "last-event-id" not in observed.headers
        assert observed.headers["content-length"] == str(len(observed.body))
        name = json.loads(observed.body)["params"]["name"]
        if revision == "2026-07-28":
            assert observed.headers["mcp-method"] == "tools/call" and observed.headers["mcp-name"] == name
        else:
            assert "mcp-name" not in observed.headers and observed.headers["mcp-session-id"]
    gets = [o for o in seen if o.method == "GET"]
    assert all(o.headers["accept"] == "text/event-stream" for o in gets)
