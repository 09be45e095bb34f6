"""A session's request read in one pass (`ServerView.decide_session`, `SessionMessage.decided`).

When the classifier decides a session's request in one pass, the general route must have accepted the
same message and decided it the same way: the envelope `jsonrpc.parse` reads, the routing peek, and
`dispatch.decide` on the raw params. Anything else must be left to the general route (no decision),
which then gives the answers it always gave. Checked over many kinds of message, valid and not.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from mcpbind.errors import McpError
from mcpbind.protocol import dispatch, inbound, jsonrpc, revisions
from mcpbind.protocol.headers import PeekParams
from mcpbind.server import Context, Server

SESSION_REVISIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")

_peek_params = msgspec.json.Decoder(PeekParams).decode


def _view() -> Any:
    server = Server("one-pass", "1.0.0")

    @server.tool()
    def echo(text: str) -> str:
        """Say `text` back."""
        return text

    @server.tool()
    async def told(text: str, ctx: Context) -> str:
        """Report progress, then say `text` back."""
        await ctx.progress(1, 1)
        return text

    @server.tool()
    def keyed(table: dict[int, str]) -> str:
        """Keys that are text in JSON: read as ints by a decode, refused by a conversion."""
        return ",".join(table.values())

    @server.resource("mem://a")
    def a() -> str:
        """A resource."""
        return "a"

    return server.http_app().stateless


VIEW = _view()

_CALL = b'"method":"tools/call"'
BODIES: list[bytes] = [
    # well-formed requests (the one-pass route must take these)
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}',
    b'{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"told","arguments":{"text":"x"},'
    b'"_meta":{"progressToken":3}}}',
    b'{"params":{"name":"echo","arguments":{"text":"x"}},"method":"tools/call","id":2,"jsonrpc":"2.0"}',
    b'{"jsonrpc":"2.0","id":3,"method":"tools/list"}',
    b'{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"cursor":"x"}}',
    b'{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"mem://a"}}',
    b'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope"}}',
    b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":5}}}',
    b'{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{}},"extra":1}',
    b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","name":"told","arguments":{}}}',
    b'{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo","_meta":{}}}',
    b'{"jsonrpc":"2.0","id":11,"method":"logging/setLevel","params":{"level":"info"}}',
    # malformed, or not for the one-pass route: left to the general route
    b'{"jsonrpc":"2.0","id":12,"method":"tools/call","params":[1]}',
    b'{"jsonrpc":"2.0","id":13,"method":"tools/call","params":null}',
    b'{"jsonrpc":"2.0","id":14,"method":"tools/call"}',
    b'{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"echo","_meta":5}}',
    b'{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"echo","_meta":null}}',
    b'{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"echo","_meta":[]}}',
    b'{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":5}}',
    b'{"jsonrpc":"2.0","id":19,"method":"tools/call","params":{"name":"echo","arguments":[1]}}',
    b'{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"echo"}}',
    b'{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"echo"}}',
    b'{"jsonrpc":"2.0","id":true,"method":"tools/call","params":{"name":"echo"}}',
    b'{"jsonrpc":"1.0","id":20,"method":"tools/call","params":{"name":"echo"}}',
    b'{"id":21,"method":"tools/call","params":{"name":"echo"}}',
    b'{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo"}}',
    b'{"jsonrpc":"2.0","id":22,"method":"nope/nope","params":{}}',
    b'{"jsonrpc":"2.0","id":23,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":24,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    b'"capabilities":{},"clientInfo":{"name":"c","version":"0"}}}',
    b'{"jsonrpc":"2.0","id":25,"method":"prompts/list"}',
    b'{"jsonrpc":"2.0","id":26,"method":"tools/call","params":{"name":"echo\xff"}}',
    b'{"jsonrpc":"2.0","id":27,"method":"tools/call","params":{"name":"echo","arguments":{"text":"\xff"}}}',
    b'{"jsonrpc":"2.0","id":28,"method":"tools/call","params":{"name":"echo","arguments":'
    + b'{"a":' * 300
    + b"1"
    + b"}" * 301
    + b"}}",
    b'{"jsonrpc":"2.0","id":29,"method":"tools/call","params":{"name":"echo"}',
    b'{"jsonrpc":"2.0","id":30,"method":5,"params":{"name":"echo"}}',
    b'{"jsonrpc":"2.0","id":31,"result":{}}',
    b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
    b'{"jsonrpc":"2.0","id":32,"method":"tools/call","params":{"name":"echo","task":{"ttl":5}}}',
    b'{"jsonrpc":"2.0","id":33,"method":"resources/subscribe","params":{"uri":"mem://a"}}',
    # hostile arguments (extra, repeated, missing, no object, 1 MB, keys a conversion refuses)
    b'{"jsonrpc":"2.0","id":34,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","more":[1]}}}',
    b'{"jsonrpc":"2.0","id":35,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a","text":"b"}}}',
    b'{"jsonrpc":"2.0","id":36,"method":"tools/call","params":{"name":"echo","arguments":{}}}',
    b'{"jsonrpc":"2.0","id":37,"method":"tools/call","params":{"name":"echo","arguments":null}}',
    b'{"jsonrpc":"2.0","id":38,"method":"tools/call","params":{"name":"echo","arguments":"text"}}',
    b'{"jsonrpc":"2.0","id":39,"method":"tools/call","params":{"name":"echo","arguments":{"text":"'
    + b"m" * (1024 * 1024)
    + b'"}}}',
    b'{"jsonrpc":"2.0","id":40,"method":"tools/call","params":{"name":"keyed","arguments":{"table":{"1":"a"}}}}',
    b'{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"keyed","arguments":{"table":{}}}}',
    b'{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"told","arguments":{"text":"x","n":1}}}',
]
WELL_FORMED = 12


def _headers(revision: str) -> dict[bytes, str]:
    return {
        b"accept": "application/json, text/event-stream",
        b"content-type": "application/json",
        b"mcp-session-id": "s",
        b"mcp-protocol-version": revision,
    }


def _general(body: bytes, rev: revisions.Revision) -> tuple[jsonrpc.Request, dispatch.Dispatch] | None:
    """What the general route makes of `body`: the request and the decision, or None if it refuses it
    anywhere on the way (the envelope, the routing peek, the decision)."""
    try:
        message = jsonrpc.parse(body)[0]
    except (msgspec.DecodeError, RecursionError):
        return None
    if type(message) is not jsonrpc.Request:
        return None
    try:
        if message.params is not None:
            _peek_params(message.params)
        return message, dispatch.decide(message.method, message.params, None, rev, VIEW)
    except (msgspec.DecodeError, RecursionError, McpError):
        return None


@pytest.mark.parametrize("revision", SESSION_REVISIONS)
def test_a_decision_made_in_one_pass_is_the_general_routes(revision: str) -> None:
    rev = revisions.revision(revision)
    taken = 0
    for index, body in enumerate(BODIES):
        route = inbound.classify("POST", _headers(revision), body, VIEW)
        decided = route.decided if isinstance(route, inbound.SessionMessage) else None
        general = _general(body, rev)
        if decided is None:
            continue
        taken += 1
        assert general is not None, body
        message, expected = general
        assert isinstance(route, inbound.SessionMessage) and route.request is not None
        assert (route.request.id, route.request.method) == (message.id, message.method), body
        assert type(route.request.id) is type(message.id), body
        assert route.request.params is None  # the decision's params are the request's
        assert decided.revision is rev and decided.spec is expected.spec and decided.era is expected.era
        assert decided.params == expected.params and decided.meta == expected.meta, body
        assert decided.direct == expected.direct
        peeked = _peek_params(message.params) if message.params is not None else None
        assert route.peek.method == message.method and route.peek.id == message.id
        if peeked is None:
            assert route.peek.params is None
        else:
            assert route.peek.params is not None
            assert (route.peek.params.name, route.peek.params.uri) == (peeked.name, peeked.uri), body
        assert index < WELL_FORMED or general is not None
    # Every well-formed request of the list the revision serves is taken in one pass.
    served = [b for b in BODIES[:WELL_FORMED] if _general(b, rev) is not None]
    assert taken >= len(served) > 5


@pytest.mark.parametrize("revision", SESSION_REVISIONS)
def test_what_the_one_pass_route_leaves_is_routed_as_before(revision: str) -> None:
    """Malformed messages get the general route's refusals (400 and the same JSON-RPC error)."""
    for body in BODIES[WELL_FORMED:]:
        route = inbound.classify("POST", _headers(revision), body, VIEW)
        if isinstance(route, inbound.SessionMessage):
            assert route.decided is None or _general(body, revisions.revision(revision)) is not None
    refused = inbound.classify("POST", _headers(revision), BODIES[WELL_FORMED], VIEW)
    assert isinstance(refused, inbound.Rejection) and refused.status == 400
    assert msgspec.json.decode(refused.body)["error"]["code"] == jsonrpc.INVALID_REQUEST


def test_another_revision_or_a_stateless_one_is_not_read_in_one_pass() -> None:
    body = BODIES[0]
    for version in ("1999-01-01", revisions.MODERN[-1]):
        route = inbound.classify("POST", _headers(version), body, VIEW)
        assert not isinstance(route, inbound.SessionMessage) or route.decided is None
    headers = _headers("2025-11-25")
    del headers[b"mcp-protocol-version"]  # (2025-03-26 clients send none: read as before)
    route = inbound.classify("POST", headers, body, VIEW)
    assert isinstance(route, inbound.SessionMessage) and route.decided is None
