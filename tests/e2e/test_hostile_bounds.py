"""What one client can make the server hold, bounded: subscriptions of a session, over stdio in a real
subprocess (tests/servers/probe.py), the server going on after each refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mcpbind.protocol.tasks import EXTENSION
from mcpbind.server import Server

from ..stdio_support import StdioServer

SESSION = "2025-11-25"
LIMIT = Server("defaults").max_subscriptions


@pytest.fixture
def server() -> Iterator[StdioServer]:
    started = StdioServer(SESSION)
    yield started
    started.stop()


def test_a_sessions_subscriptions_are_bounded(server: StdioServer) -> None:
    """`resources/subscribe` kept every URI a session named, of any length, for the session's life: a
    client could make the server hold gigabytes. Now a session holds at most `max_subscriptions` URIs
    (the next is refused with -32000 and the limit, nothing kept) of at most 8192 characters (longer:
    -32602); subscribing again to a URI it holds, or after an unsubscribe, is served."""
    messages = [server.message("resources/subscribe", {"uri": f"memo://n/{i}"}) for i in range(LIMIT)]
    server.send(b"\n".join(json.dumps(m).encode() for m in messages))
    answers = server.until({m["id"] for m in messages}, timeout=60)
    assert all(a.get("result") == {} for a in answers if "id" in a), answers[:3]
    over = server.request(server.message("resources/subscribe", {"uri": "memo://n/one-more"}))
    assert over["error"]["code"] == -32000 and over["error"]["data"] == {"limit": LIMIT}, over
    again = server.request(server.message("resources/subscribe", {"uri": "memo://n/0"}))
    assert again.get("result") == {}, again
    assert server.request(server.message("resources/unsubscribe", {"uri": "memo://n/0"}))["result"] == {}
    long = server.request(server.message("resources/subscribe", {"uri": "memo://" + "x" * 8200}))
    assert long["error"]["code"] == -32602, long
    assert server.request(server.message("resources/subscribe", {"uri": "memo://n/new"}))["result"] == {}
    server.ping()


def test_a_listens_resource_subscriptions_are_bounded() -> None:
    """`subscriptions/listen` (2026-07-28) held any number of URIs of any length while its stream was
    open, and looked through them on every resource update. The same bounds as a session's now: more
    than `max_subscriptions` URIs (or task ids) is -32000 with the limit, a longer URI -32602; at the
    bound it is acknowledged, and the server goes on."""
    server = StdioServer("2026-07-28")
    try:
        for uris, code in (
            ([f"memo://n/{i}" for i in range(LIMIT + 1)], -32000),
            (["memo://" + "x" * 8200], -32602),
        ):
            refused = server.request(
                server.message("subscriptions/listen", {"notifications": {"resourceSubscriptions": uris}})
            )
            assert refused["error"]["code"] == code, refused
        ids = server.message("subscriptions/listen", {"notifications": {"taskIds": ["t"] * (LIMIT + 1)}})
        ids["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"extensions": {EXTENSION: {}}}
        refused = server.request(ids)  # (each task id is looked up in the task store)
        assert refused["error"]["code"] == -32000, refused
        assert f"at most {LIMIT} tasks" in refused["error"]["message"], refused  # (not "resources")
        listen = server.message(
            "subscriptions/listen",
            {"notifications": {"resourceSubscriptions": [f"memo://n/{i}" for i in range(LIMIT)]}},
        )
        server.send(json.dumps(listen).encode())
        (ack,) = server.read(30)
        assert ack["method"] == "notifications/subscriptions/acknowledged", ack
        assert len(ack["params"]["notifications"]["resourceSubscriptions"]) == LIMIT
        server.send(
            json.dumps(
                {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": listen["id"]}}
            ).encode()
        )
        server.ping()
    finally:
        server.stop()
