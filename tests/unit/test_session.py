"""A connection's session as data: snapshot and restore (no event loop, no transport I/O)."""

from __future__ import annotations

import pytest

from mcpbind.server import Connection, Server
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
