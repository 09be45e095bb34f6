"""A connection's session as data: snapshot and restore (no event loop, no transport I/O)."""

from __future__ import annotations

import asyncio
import json

import pytest

from mcpbind.protocol.endpoint import IncomingRequest
from mcpbind.server import Connection, Context, Server, ToolError
from mcpbind.server.session import SessionSnapshot


class _Silent:
    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        raise AssertionError("nothing is sent")

    async def close(self) -> None:
        pass


def test_a_session_moves_between_connections_as_data() -> None:
    server = Server("s", "1.0.0")
    first = Connection(server, _Silent())
    assert first.is_idle() and first.revision is None
    with pytest.raises(ValueError, match="no session"):
        first.snapshot()
    snapshot = SessionSnapshot(
        "2025-06-18", {"roots": {}}, {"name": "c", "version": "1"}, True, "error", ("a://1",)
    )
    first.restore(snapshot)
    assert first.revision == "2025-06-18"
    assert not first.is_idle()  # a session is state to keep
    assert first.subscriptions == {"a://1"} and first.log_level == "error"
    second = Connection(server, _Silent())
    second.restore(first.snapshot())
    assert second.snapshot() == snapshot
    second.revision = None
    assert second.session is None and second.is_idle()


def test_a_tool_registration_is_read_through_the_servers_api() -> None:
    server = Server("s", "1.0.0")
    assert server.tool_entry("echo") is None

    @server.tool()
    def echo(text: str) -> str:
        return text

    entry = server.tool_entry("echo")
    assert entry is not None and entry.fn is echo and entry.definition["name"] == "echo"
    assert server.takes_no_context("echo")


def test_a_tool_without_a_context_answers_in_a_session_as_one_with_a_context() -> None:
    """In a session, a call of a tool that takes no Context (no middleware, no tasks) is run with none,
    as a stateless call is answered directly: its answers, failures included, are those of the same
    tool taking a Context, which still gets one."""
    server = Server("s", "1.0.0")
    seen: list[object] = []

    def plain(text: str) -> str:
        if text == "fail":
            raise ToolError("refused")
        return text

    async def with_ctx(text: str, ctx: Context) -> str:
        seen.append(ctx.request_id)
        return plain(text)

    server.tool("plain")(plain)
    server.tool("with_ctx")(with_ctx)
    conn = Connection(server, _Silent())
    conn.restore(SessionSnapshot("2025-11-25", {}, {"name": "c", "version": "1"}, True, None, ()))
    assert server.takes_no_context("plain") and not server.takes_no_context("with_ctx")

    def call(rid: int, name: str, arguments: object) -> str:
        """The answer's text, its id and the tool's name left out."""
        params = json.dumps({"name": name, "arguments": arguments}).encode()
        reply = asyncio.run(conn.on_request(IncomingRequest(rid, "tools/call", params)))
        assert reply is not None
        answer = json.loads(reply)
        assert answer.pop("id") == rid
        return json.dumps(answer).replace(name, "TOOL")

    for arguments in ({"text": "hi"}, {"text": "fail"}, {"text": 3}, {}):
        assert call(1, "plain", arguments) == call(2, "with_ctx", arguments), arguments
    assert seen == [2, 2]  # the Context tool got its own, each time it ran
    assert "Unknown tool" in call(3, "missing", {})
