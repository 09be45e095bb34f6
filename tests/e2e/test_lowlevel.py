"""The schema-exact server: a revision's handler protocol implemented directly, served over stdio."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import InternalError, InvalidRequest, MethodNotFound
from mcpbind.transports.stdio import StdioClientTransport

from ..http_support import MODERN
from ..schema_check import Recorder
from ..stdio_support import LineProcess, StdioServer

SERVER = str(Path(__file__).resolve().parents[1] / "servers" / "lowlevel.py")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.parametrize("revision", ["2025-06-18", "2026-07-28"])
def test_handler_protocol_server(revision: str) -> None:
    async def main() -> None:
        rec = Recorder(StdioClientTransport(sys.executable, [SERVER, revision], stderr="capture"))
        async with Client(rec, mode=revision) as client:
            if revision == "2025-06-18":
                assert client.server_info == {"name": "lowlevel", "version": "1"}
                assert [t.name for t in await client.list_tools()] == ["echo"]
                assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"
                # A result the schema forbids never reaches the wire: the client sees -32603.
                with pytest.raises(InternalError):
                    await client.call_tool("bad", {})
            else:
                assert (await client.call_tool("named", {})).content[0].text == "named"
            with pytest.raises(MethodNotFound):
                await client.request("prompts/list", {})
        rec.validate(revision)
        assert "forbids" in rec.inner.stderr_text or revision != "2025-06-18"

    run(main())


def test_notification_handler_that_asks_the_client() -> None:
    """A notification's handler that awaits the client's answer (roots/list) gets it: the server
    goes on reading while it waits, and serves the requests that follow."""

    async def roots() -> list[dict[str, Any]]:
        return [{"uri": "file:///a", "name": "a"}, {"uri": "file:///b", "name": "b"}]

    async def main() -> None:
        transport = StdioClientTransport(sys.executable, [SERVER, "2025-06-18"], stderr="capture")
        async with Client(transport, mode="2025-06-18", roots=roots) as client:
            await client.notify("notifications/roots/list_changed")
            seen = ""
            for _ in range(200):  # the answer and the next call race: a bounded wait for the roots
                seen = (await client.call_tool("roots", {}, timeout=20)).content[0].text
                if seen:
                    break
                await asyncio.sleep(0.02)
            assert seen == "file:///a file:///b"
            assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"

    run(main())


def test_a_second_initialize_is_refused_and_the_handler_not_called() -> None:
    """A session is initialized once, as the high-level server rules: a second `initialize` is -32600
    and never reaches the handler (which would answer it and renegotiate); the session serves on."""

    async def main() -> None:
        transport = StdioClientTransport(sys.executable, [SERVER, "2025-06-18"], stderr="capture")
        async with Client(transport, mode="2025-06-18") as client:
            again = {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "again", "version": "1"},
            }
            with pytest.raises(InvalidRequest, match="initialized already"):
                await client.request("initialize", again, timeout=20)
            assert (await client.call_tool("echo", {"text": "after"})).content[0].text == "after"

    run(main())


def test_a_stateless_request_with_no_version_is_invalid_params_as_from_the_high_level_server() -> None:
    """The 2026-07-28 spec: a request missing a required `_meta` field (its protocol version) is
    malformed and MUST be rejected with -32602. The schema-exact server said -32600 for one with no
    params at all (`server/discover`), where the high-level server says -32602."""
    bare = {"jsonrpc": "2.0", "id": 1, "method": "server/discover"}
    no_version = {**bare, "id": 2, "params": {"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}}}
    lowlevel = LineProcess([sys.executable, SERVER, MODERN])
    try:
        lowlevel.write_lines([json.dumps(bare).encode(), json.dumps(no_version).encode()])
        answers = lowlevel.lines(2)
    finally:
        lowlevel.close()
    high = StdioServer(MODERN)
    try:
        answers += [high.request(bare), high.request(no_version)]
    finally:
        high.stop()
    assert [a["error"]["code"] for a in answers] == [-32602] * 4, answers
    assert all("protocolVersion" in a["error"]["message"] for a in answers), answers


def test_a_2026_07_28_ping_is_no_method_on_either_server() -> None:
    """2026-07-28 removed `ping` (its changelog): the schema-exact server finds no such method, with a
    version or without one, and so does a high-level server of that revision alone (it answered a
    ping naming no version with an empty result). A server that also speaks a revision of sessions
    answers one that names none, as a ping before `initialize`; one naming 2026-07-28 is no method."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "x", "version": "1"},
    }
    pings = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {}},
        {"jsonrpc": "2.0", "id": 3, "method": "ping", "params": {"_meta": meta}},
    ]
    lowlevel = LineProcess([sys.executable, SERVER, MODERN])
    try:
        lowlevel.write_lines([json.dumps(ping).encode() for ping in pings])
        answers = lowlevel.lines(3)
    finally:
        lowlevel.close()
    high = StdioServer(MODERN, "--revisions", MODERN)
    try:
        answers += [high.request(ping) for ping in pings]
    finally:
        high.stop()
    assert [a["error"]["code"] for a in answers] == [-32601] * 6, answers
    both = StdioServer(MODERN)
    try:
        assert both.request(pings[0]) == {"jsonrpc": "2.0", "id": 1, "result": {}}
        assert both.request(pings[2])["error"]["code"] == -32601
    finally:
        both.stop()
