"""The HTTP routing decisions of `mcpbind.protocol.inbound`, in process: no sockets, no event loop.

Each Rejection the classifier can give, and each kind of Route, for requests built as bytes. The server
it classifies for is a real one (its tools decide `Mcp-Param-*` paths and direct answers), seen through
the same `StatelessRoute` the ASGI app hands the classifier.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcpbind.protocol import inbound, media, revisions
from mcpbind.protocol.headers import Peek
from mcpbind.protocol.headers import peek as peek_message
from mcpbind.protocol.inbound import Rejection, Route
from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.http.stateless import StatelessRoute

from ..http_support import BOTH, MODERN, modern, modern_headers, region_schema, request

STATEFUL = "2025-06-18"


def _server(served: tuple[str, ...] = revisions.ALL) -> Server:
    server = Server("inbound", "1.0.0", revisions_served=served)

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    async def shout(text: str, ctx: Context) -> str:
        return text.upper()

    @server.tool(input_schema=region_schema())
    def locate(region: str) -> str:
        return region

    return server


VIEW = StatelessRoute(_server(), HttpSecurity(), set())


def headers(**values: str) -> dict[bytes, bytes]:
    """Request headers as the app reads them: lower-case names, values as received."""
    base = {"host": "127.0.0.1", "accept": BOTH, "content-type": "application/json"}
    base.update(values)
    return {name.replace("_", "-").lower().encode(): value.encode("latin-1") for name, value in base.items()}


def post(body: Any, view: Any = VIEW, **values: str) -> Route | Rejection:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return inbound.classify("POST", headers(**values), data, view)


def stateless(message: dict[str, Any], **extra: str) -> Route | Rejection:
    hdrs = {k.replace("-", "_"): v for k, v in modern_headers(message).items()}
    hdrs.update(extra)
    return post(message, **hdrs)


def rejected(outcome: Route | Rejection, status: int, code: int | None = None) -> dict[str, Any]:
    """The error the Rejection carries (checked against `status` and, when given, `code`)."""
    assert isinstance(outcome, Rejection), outcome
    assert outcome.status == status, (outcome.status, outcome.body)
    if code is None:
        return {}
    error: dict[str, Any] = json.loads(outcome.body)["error"]
    assert error["code"] == code, error
    return error


# -- method and headers -------------------------------------------------------------------------------


def test_repeated_mcp_headers_are_refused_and_others_are_not() -> None:
    hdrs = headers(mcp_protocol_version=MODERN)
    once = b"mcp-method mcp-name mcp-session-id mcp-protocol-version last-event-id host origin content-type"
    for name in once.split():
        raw = [*hdrs.items(), (name, b"a"), (name, b"b")]
        error = rejected(inbound.screen({**hdrs, name: "b"}, raw), 400, -32600)
        assert name.decode() in error["message"]
    raw = [
        *hdrs.items(),
        (b"mcp-param-region", b"a"),
        (b"mcp-param-region", b"b"),
    ]
    rejected(inbound.screen({**hdrs, b"mcp-param-region": "b"}, raw), 400, -32600)
    raw = [*hdrs.items(), (b"x-other", b"a"), (b"x-other", b"b")]
    assert inbound.screen({**hdrs, b"x-other": "b"}, raw) is None


def test_accept_on_several_lines_is_read_as_one_list() -> None:
    """RFC 9110 5.3: a list-based field's lines, joined with commas, are the field's one value."""
    hdrs = headers(mcp_session_id="s")
    raw = [(k, v) for k, v in hdrs.items() if k != b"accept"]
    raw += [(b"accept", b"application/json"), (b"accept", b"text/event-stream")]
    read = dict(raw)
    rejected(inbound.head("POST", read, 1000), 406, -32600)  # the last line alone
    joined = inbound.joined(read, raw)
    assert joined[b"accept"] == b"application/json, text/event-stream"
    assert inbound.head("POST", joined, 1000) is None
    assert isinstance(
        inbound.classify("POST", read, b'{"jsonrpc":"2.0","id":1,"method":"ping"}', VIEW, raw=raw), Route
    )
    assert inbound.joined(hdrs, list(hdrs.items())) == hdrs  # nothing repeated: as it was


@pytest.mark.parametrize(
    "accept",
    [
        "",
        "application/json",
        "text/event-stream",
        "application/json, text/event-stream;q=0",
        "text/*;q=0, */*",
    ],
)
def test_a_post_must_accept_json_and_event_streams(accept: str) -> None:
    error = rejected(inbound.classify("POST", headers(accept=accept), b"{}", VIEW), 406, -32600)
    assert "Not Acceptable" in error["message"]


@pytest.mark.parametrize(
    "accept", ["*/*", "application/*, text/*", "application/json;q=0.5, text/event-stream"]
)
def test_media_ranges_are_accepted(accept: str) -> None:
    # The very tuple `media.BOTH`, worked out and then cached: the HTTP app tests a verdict with `is`.
    assert inbound.accepts(accept) is media.BOTH and inbound.accepts(accept) is media.BOTH
    assert media.ACCEPT_CACHE[accept] is media.BOTH


def test_a_post_must_send_json() -> None:
    for content_type in ("", "text/plain", "application/jsonx"):
        rejected(inbound.classify("POST", headers(content_type=content_type), b"{}", VIEW), 415, -32600)
    ok = headers(content_type="Application/JSON; charset=utf-8", mcp_session_id="s")
    assert isinstance(inbound.classify("POST", ok, json.dumps(request(1, "ping")).encode(), VIEW), Route)


def test_a_body_over_the_bound_is_refused_by_its_length_or_its_size() -> None:
    error = rejected(inbound.head("POST", headers(content_length="1001"), 1000), 413, -32600)
    assert "over 1000 bytes" in error["message"]
    rejected(inbound.post(headers(), None, VIEW, 1000), 413, -32600)
    rejected(inbound.classify("POST", headers(), b"[" * 2000, VIEW, max_body=1000), 413)
    # An empty body is no excess, whether it says it is empty or comes with no length: it is no JSON.
    rejected(inbound.post(headers(content_length="0"), b"", VIEW, 1000), 400, -32700)
    rejected(inbound.post(headers(), b"", VIEW, 1000), 400, -32700)
    rejected(inbound.post(headers(transfer_encoding="chunked"), b"", VIEW, 1000), 400, -32700)


def test_get_routes() -> None:
    rejected(inbound.classify("GET", headers(accept="application/json"), b"", VIEW), 406, -32600)
    no_session = inbound.classify("GET", headers(accept="text/event-stream"), b"", VIEW)
    rejected(no_session, 405)
    assert isinstance(no_session, Rejection) and no_session.headers == ((b"allow", b"POST"),)
    listen = inbound.classify("GET", headers(accept="text/event-stream", mcp_session_id="s"), b"", VIEW)
    assert isinstance(listen, inbound.Listen) and listen.session_id == "s"
    resume = inbound.classify(
        "GET", headers(accept="*/*", mcp_session_id="s", last_event_id="s12-7"), b"", VIEW
    )
    assert isinstance(resume, inbound.Resume) and (resume.session_id, resume.stream, resume.after) == (
        "s",
        "s12",
        7,
    )
    for last in ("s1-\u00b2", "s1-\u0663", "nonsense", "-", "s1-", "-3"):
        # (Header values reach the classifier as the app reads them: bytes as latin-1.)
        seen = last.encode().decode("latin-1")
        hdrs = headers(accept="text/event-stream", mcp_session_id="s", last_event_id=seen)
        # Refused once the session is found (an unknown one is 404 first: tests/e2e/test_http.py).
        route = inbound.classify("GET", hdrs, b"", VIEW)
        assert isinstance(route, inbound.UnknownEvent) and route.session_id == "s"
        error = rejected(route.refusal, 400, -32600)
        assert "Last-Event-ID" in error["message"]


def test_delete_and_other_methods() -> None:
    route = inbound.classify("DELETE", headers(mcp_session_id="s"), b"", VIEW)
    assert isinstance(route, inbound.Delete) and route.session_id == "s"
    route = inbound.classify("DELETE", headers(), b"", VIEW)
    assert isinstance(route, inbound.Delete) and route.session_id is None
    for method in ("PUT", "PATCH", "HEAD"):
        refused = inbound.classify(method, headers(), b"", VIEW)
        rejected(refused, 405)
        assert isinstance(refused, Rejection) and refused.headers == ((b"allow", b"GET, POST, DELETE"),)


def test_a_server_of_no_session_revision_allows_post_alone() -> None:
    """2026-07-28 alone has no sessions: GET and DELETE (with a session id or not) and any other
    method are 405, allowing POST; a server that also speaks a session revision routes them."""
    only_modern = StatelessRoute(_server((MODERN,)), HttpSecurity(), set())
    for method, values in [
        ("GET", {"accept": "text/event-stream"}),
        ("GET", {"accept": "text/event-stream", "mcp_session_id": "s"}),
        ("DELETE", {"mcp_session_id": "s"}),
        ("DELETE", {}),
        ("PUT", {}),
    ]:
        refused = inbound.classify(method, headers(**values), b"", only_modern)
        rejected(refused, 405)
        assert isinstance(refused, Rejection) and refused.headers == ((b"allow", b"POST"),), method
    both = StatelessRoute(_server((STATEFUL, MODERN)), HttpSecurity(), set())
    assert isinstance(inbound.classify("DELETE", headers(mcp_session_id="s"), b"", both), inbound.Delete)


# -- the body --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"not json", "Parse error"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "\xff"}}', "Parse error"),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": '
            + b"[" * 10_000
            + b"]" * 10_000
            + b"}",
            "",
        ),
        (b"[" * 10_000, ""),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "ping"', "Parse error"),
    ],
)
def test_a_body_that_is_no_json_is_a_parse_error(body: bytes, why: str) -> None:
    for extra in ({}, {"mcp_session_id": "s"}, {"mcp_protocol_version": MODERN, "mcp_method": "ping"}):
        error = rejected(post(body, **extra), 400, -32700)
        assert why in error["message"]


def test_batches() -> None:
    batch = [request(1, "ping"), request(2, "ping")]
    error = rejected(post(batch), 400, -32600)
    assert "no JSON-RPC batches" in error["message"]
    route = post(batch, mcp_session_id="s", mcp_protocol_version="2025-03-26")
    assert isinstance(route, inbound.Batch) and route.session_id == "s" and route.body.startswith(b"[")
    # Whether the session's revision has batches is the session's: the data says which do.
    assert [r for r in revisions.ALL if inbound.has_batches(r)] == ["2025-03-26"]


def test_session_era_routes() -> None:
    init = request(1, "initialize", {"protocolVersion": STATEFUL, "capabilities": {}, "clientInfo": {}})
    route = post(init)
    assert isinstance(route, inbound.Initialize) and json.loads(route.body) == init
    # With a session's id it is that session's (which refuses it: initialized once), never a new one.
    route = post(init, mcp_session_id="abc")
    assert isinstance(route, inbound.SessionMessage) and route.peek.method == "initialize"
    ping = request(7, "ping")
    route = post(ping, mcp_session_id="abc", mcp_protocol_version=STATEFUL)
    assert isinstance(route, inbound.SessionMessage)
    assert (route.session_id, route.version, route.peek.method, route.peek.id) == ("abc", STATEFUL, "ping", 7)
    assert route.request is not None and route.request.method == "ping"  # parsed once, handed on
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    route = post(note, mcp_session_id="abc")
    assert isinstance(route, inbound.SessionMessage) and route.request is None and route.peek.id is None
    error = rejected(post(ping), 400, -32600)
    assert "Mcp-Session-Id" in error["message"]
    error = rejected(post(ping, mcp_protocol_version="1999-01-01"), 400, -32022)
    assert error["data"]["requested"] == "1999-01-01" and MODERN in error["data"]["supported"]
    # A stateful session's version header is checked against the session, not here.
    assert isinstance(
        post(ping, mcp_session_id="abc", mcp_protocol_version="1999-01-01"), inbound.SessionMessage
    )
    # GET and DELETE carry theirs to the session too.
    version = {b"mcp-protocol-version": b"1999-01-01", b"mcp-session-id": b"abc"}
    assert inbound.head("GET", {**version, b"accept": b"text/event-stream"}, 1000) == inbound.Listen(
        "abc", "1999-01-01"
    )
    assert inbound.head("DELETE", version, 1000) == inbound.Delete("abc", "1999-01-01")


def test_a_sessions_version_header_is_refused_naming_what_is_wrong() -> None:
    served = ("2025-06-18", "2025-11-25")
    other = json.loads(inbound.version_refusal("2025-11-25", "2025-06-18", served, 7))
    assert other["id"] == 7 and other["error"]["code"] == -32600
    assert "2025-11-25 is not this session's: it negotiated 2025-06-18" in other["error"]["message"]
    unknown = json.loads(inbound.version_refusal("x" * 1000, "2025-06-18", served))
    # (The session's revision, 2025-06-18, names an id it cannot know as null; 2025-11-25 leaves it out.)
    assert unknown["id"] is None and "(1000 characters)" in unknown["error"]["message"]
    later = json.loads(inbound.version_refusal("x", "2025-11-25", served))
    assert "id" not in later
    assert "this server speaks 2025-06-18, 2025-11-25" in unknown["error"]["message"]
    twice = json.loads(inbound.version_refusal("2025-06-18, 2025-06-18", "2025-06-18", served, "a"))
    assert twice["id"] == "a" and "sent more than once" in twice["error"]["message"]


def test_a_request_of_neither_era_is_told_what_the_server_speaks() -> None:
    """No session and no stateless revision named: a version header the server does not serve is an
    unsupported version (naming the ones it does), one that disagrees with `_meta` a header mismatch,
    and a server of the stateless era alone never asks for `initialize`, which it refuses."""
    only_modern = StatelessRoute(_server((MODERN,)), HttpSecurity(), set())
    ping = request(7, "ping")
    error = rejected(post(ping, only_modern, mcp_protocol_version=STATEFUL), 400, -32022)
    assert error["data"] == {"supported": [MODERN], "requested": STATEFUL}
    error = rejected(post(ping, only_modern), 400, -32020)
    assert "MCP-Protocol-Version is required" in error["message"]
    assert json.loads(post(ping, only_modern).body)["id"] == 7
    # A stateful-only server, asked in a revision it does not serve (but one mcpbind knows).
    only_newest = StatelessRoute(_server((revisions.STATEFUL[-1],)), HttpSecurity(), set())
    error = rejected(post(ping, only_newest, mcp_protocol_version=STATEFUL), 400, -32022)
    assert error["data"] == {"supported": [revisions.STATEFUL[-1]], "requested": STATEFUL}
    # The header against the body's `_meta`, whatever era the header names.
    discover = modern(8, "server/discover")
    for header in (STATEFUL, "2099-01-01"):
        error = rejected(
            post(discover, mcp_protocol_version=header, mcp_method="server/discover"), 400, -32020
        )
        assert f"_meta says '{MODERN}'" in error["message"] and header in error["message"]


def test_a_server_of_no_session_revision_ignores_a_session_id() -> None:
    """2026-07-28 alone: `Mcp-Session-Id` is ignored, and a request of the initialize era is answered
    as one with no session (the versions the server speaks), never as a session it has none of."""
    only_modern = StatelessRoute(_server((MODERN,)), HttpSecurity(), set())
    ping = request(7, "ping")
    error = rejected(
        post(ping, only_modern, mcp_session_id="abc", mcp_protocol_version=STATEFUL), 400, -32022
    )
    assert error["data"] == {"supported": [MODERN], "requested": STATEFUL}
    assert json.loads(post(ping, only_modern, mcp_session_id="abc").body)["id"] == 7
    rejected(post(ping, only_modern, mcp_session_id="abc"), 400, -32020)
    rejected(post([ping], only_modern, mcp_session_id="abc"), 400, -32600)  # no batch of a session
    # A server with sessions still takes the header to its session.
    assert isinstance(post(ping, mcp_session_id="abc", mcp_protocol_version=STATEFUL), inbound.SessionMessage)


def test_a_stateless_version_a_server_of_sessions_alone_does_not_speak_is_judged_first() -> None:
    """Refused naming the revisions served, before any header of that revision is asked for."""
    only_stateful = StatelessRoute(_server(revisions.STATEFUL), HttpSecurity(), set())
    for message in (request(7, "ping"), modern(7, "server/discover")):
        outcome = post(message, only_stateful, mcp_session_id="abc", mcp_protocol_version=MODERN)
        error = rejected(outcome, 400, -32022)
        assert error["data"] == {"supported": sorted(revisions.STATEFUL, reverse=True), "requested": MODERN}
        assert isinstance(outcome, Rejection) and json.loads(outcome.body)["id"] == 7


def test_a_repeated_version_header_is_refused_with_the_request_id_as_a_header_mismatch() -> None:
    """A version header on two lines names no version the server can read: 2026-07-28's refusal of
    such a header (HeaderMismatch, 400), with the request's id, which a dual-era client matches."""
    message = modern(9, "server/discover")
    hdrs = headers(**{k.replace("-", "_"): v for k, v in modern_headers(message).items()})
    for second in (MODERN, STATEFUL):
        raw = [*hdrs.items(), (b"mcp-protocol-version", second.encode())]
        outcome = inbound.classify("POST", hdrs, json.dumps(message).encode(), VIEW, raw=raw)
        error = rejected(outcome, 400, -32020)
        assert "sent more than once" in error["message"]
        assert isinstance(outcome, Rejection) and json.loads(outcome.body)["id"] == 9
    # Left to the body by HTTP alone (`screen`'s default refuses it at once); other MCP headers are not.
    raw = [*hdrs.items(), (b"mcp-protocol-version", MODERN.encode())]
    rejected(inbound.screen(hdrs, raw), 400, -32600)
    assert inbound.screen(hdrs, raw, inbound.VERSION_HEADER) is None
    raw = [*hdrs.items(), (b"mcp-method", b"tools/list")]
    rejected(inbound.screen(hdrs, raw, inbound.VERSION_HEADER), 400, -32600)


# -- the stateless wire ----------------------------------------------------------------------------------


def test_a_direct_call_is_decoded_in_one_pass_and_answerable_directly() -> None:
    message = modern(3, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    route = stateless(message)
    assert isinstance(route, inbound.Stateless)
    assert route.direct and route.peek.lean and route.peek.typed is not None
    assert (route.version, route.revision, route.peek.id) == (MODERN, MODERN, 3)


def test_a_call_that_needs_a_connection_is_not_answered_directly() -> None:
    route = stateless(modern(4, "tools/call", {"name": "shout", "arguments": {"text": "x"}}))
    assert isinstance(route, inbound.Stateless) and not route.direct and route.peek.typed is not None
    # Lean, but with a request state to check: decoded for nothing, the connection reads the body whole.
    stated = modern(5, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}, "requestState": "x"})
    route = stateless(stated)
    assert isinstance(route, inbound.Stateless) and not route.direct and route.peek.typed is None
    assert route.request is None and json.loads(route.body) == stated


def test_other_stateless_requests_and_notifications() -> None:
    route = stateless(modern(6, "tools/list"))
    assert isinstance(route, inbound.Stateless) and not route.direct and route.version == MODERN
    cancelled = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
    route = post(cancelled, mcp_protocol_version=MODERN)  # no Mcp-Method: notifications need none
    assert isinstance(route, inbound.Stateless) and route.peek.id is None
    # A modern `_meta` with no version header at all is the stateless wire too, and is refused there.
    error = rejected(post(modern(1, "tools/list")), 400, -32020)
    assert "MCP-Protocol-Version is required" in error["message"]
    # Without the version in `_meta` the request goes on, and its handler refuses it (revision None).
    bare = request(8, "tools/list", {})
    route = stateless(bare)
    assert isinstance(route, inbound.Stateless) and route.revision is None and route.request is not None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"mcp_method": "tools/list"}, "Mcp-Method 'tools/list' but the body's method is 'tools/call'"),
        ({"mcp_method": "Tools/Call"}, "Mcp-Method"),
        ({"mcp_name": "other"}, "Mcp-Name 'other' does not match the body"),
        ({"mcp_name": "=?base64?!!?="}, "Mcp-Name"),
        ({"mcp_param_region": "mars"}, "Mcp-Param-Region does not match the body"),
    ],
)
def test_stateless_headers_must_mirror_the_body(change: dict[str, str], why: str) -> None:
    message = modern(9, "tools/call", {"name": "locate", "arguments": {"region": "earth"}})
    assert isinstance(stateless(message, mcp_param_region="earth"), inbound.Stateless)
    error = rejected(stateless(message, **{"mcp_param_region": "earth", **change}), 400, -32020)
    assert why in error["message"] and error.get("data") is None
    assert json.loads(rejected_body(stateless(message, **{"mcp_param_region": "earth", **change})))["id"] == 9


def rejected_body(outcome: Route | Rejection) -> bytes:
    assert isinstance(outcome, Rejection)
    return outcome.body


def test_missing_stateless_headers() -> None:
    message = modern(10, "tools/call", {"name": "locate", "arguments": {"region": "earth"}})
    hdrs = {k.replace("-", "_"): v for k, v in modern_headers(message).items()}
    for name, why in (("mcp_method", "Mcp-Method is required"), ("mcp_name", "Mcp-Name is required")):
        values = {k: v for k, v in hdrs.items() if k != name}
        error = rejected(post(message, **values, mcp_param_region="earth"), 400, -32020)
        assert why in error["message"]
    error = rejected(post(message, **hdrs), 400, -32020)
    assert "Mcp-Param-Region is missing" in error["message"]
    prompt = modern(11, "prompts/get", {"name": "p"})
    error = rejected(stateless(prompt, mcp_name="q"), 400, -32020)
    assert "Mcp-Name 'q'" in error["message"]
    prompt_headers = {k: v for k, v in hdrs.items() if k not in ("mcp_name", "mcp_method")}
    error = rejected(post(prompt, **prompt_headers, mcp_method="prompts/get"), 400, -32020)
    assert "Mcp-Name is required" in error["message"]
    resource = modern(12, "resources/read", {"uri": "file:///a"})
    route = stateless(resource)
    assert isinstance(route, inbound.Stateless)
    rejected(stateless(resource, mcp_name="file:///b"), 400, -32020)


def test_the_version_header_and_meta_must_agree() -> None:
    message = modern(13, "tools/list")
    message["params"]["_meta"][revisions.META_VERSION] = "2026-01-01"
    error = rejected(stateless(message), 400, -32020)
    assert "_meta says '2026-01-01'" in error["message"]


@pytest.mark.parametrize("version", [4.695937053153953e196, 20260728, ["2026-07-28"] * 40, {"v": None}, True])
@pytest.mark.parametrize("method", ["tools/list", "notifications/tools/list_changed"])
def test_a_version_in_meta_that_is_no_string_is_refused_not_a_crash(version: Any, method: str) -> None:
    """A client may put any JSON where the version belongs: the mismatch is answered, its value quoted
    (cut to the quoting limit), as for a string."""
    message = modern(13, method)
    if method.startswith("notifications/"):
        del message["id"]
    message["params"]["_meta"][revisions.META_VERSION] = version
    outcome = stateless(message)
    assert isinstance(outcome, Rejection), outcome
    assert outcome.status == 400, (outcome.status, outcome.body)
    assert b"_meta says" in outcome.body and len(outcome.body) < 600, outcome.body


def test_a_revision_the_server_does_not_speak_and_an_unknown_method() -> None:
    only_stateful = StatelessRoute(_server(revisions.STATEFUL), HttpSecurity(), set())
    message = modern(14, "tools/list")
    hdrs = {k.replace("-", "_"): v for k, v in modern_headers(message).items()}
    error = rejected(post(message, only_stateful, **hdrs), 400, -32022)
    assert error["data"] == {"supported": sorted(revisions.STATEFUL, reverse=True), "requested": MODERN}
    error = rejected(stateless(modern(15, "no/such")), 404, -32601)
    assert "no/such" in error["message"]
    error = rejected(
        post({"jsonrpc": "2.0", "id": 1, "result": {}}, mcp_protocol_version=MODERN), 400, -32600
    )
    assert "no responses" in error["message"]


def test_rejections_never_echo_an_id_that_is_no_request_id() -> None:
    message = modern(None, "tools/list")
    message["id"] = {"not": "an id"}
    outcome = stateless(message, mcp_method="tools/call")
    assert isinstance(outcome, Rejection) and json.loads(outcome.body).get("id") is None


def test_classifying_is_quick() -> None:
    """A stateless direct call is classified in microseconds: no event loop, no I/O (a generous bound,
    for slow shared machines)."""
    import time

    message = modern(3, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    hdrs = headers(**{k.replace("-", "_"): v for k, v in modern_headers(message).items()})
    body = json.dumps(message).encode()
    raw = list(hdrs.items())
    started = time.process_time()  # this process's CPU time: what other processes do does not count
    for _ in range(1000):
        assert inbound.screen(hdrs, raw) is None and inbound.head("POST", hdrs, 1 << 20) is None
        assert isinstance(inbound.post(hdrs, body, VIEW, 1 << 20), inbound.Stateless)
    assert time.process_time() - started < 1.0


def test_an_unreadable_answer_on_a_session_is_taken_to_its_request() -> None:
    """A session's POST that is no JSON but reads as an answer (its id salvaged) is refused with its
    400 all the same, and routed so that the request it answers fails at once; anything else that
    cannot be read (no session, a request, no id) is only refused."""
    cut = b'{"jsonrpc":"2.0","id":7,"result":{"roots":['
    deep = b'{"jsonrpc":"2.0","id":"s","result":' + b"[" * 5000 + b"]" * 5000 + b"}"
    for body, rid in ((cut, 7), (deep, "s")):
        route = post(body, mcp_session_id="abc", mcp_protocol_version="2025-11-25")
        assert isinstance(route, inbound.UnreadableAnswer), route
        assert (route.session_id, route.id, route.body) == ("abc", rid, body)
        rejected(route.refusal, 400, -32700)
    rejected(post(cut, mcp_protocol_version="2025-11-25"), 400, -32700)
    rejected(post(b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{', mcp_session_id="abc"), 400, -32700)
    rejected(post(b'{"jsonrpc":"2.0","result":{', mcp_session_id="abc"), 400, -32700)


@pytest.mark.parametrize("rid", [None, True, 1.5, {"a": 1}, [1]])
def test_a_request_with_an_invalid_id_is_refused_not_taken_for_a_notification(rid: Any) -> None:
    """MCP: a request's id MUST be a string or an integer (never null). With any other, the message is
    refused with 400 and -32600, as over stdio, on a session and on the stateless wire, rather than
    accepted (202) as a notification."""
    body = {"jsonrpc": "2.0", "id": rid, "method": "ping"}
    error = rejected(post(body, mcp_session_id="s", mcp_protocol_version="2025-11-25"), 400, -32600)
    assert "`id` must be a string or an integer" in error["message"]
    message = {**modern(1, "ping"), "id": rid}
    rejected(stateless(message), 400, -32600)
    bad_version = {"jsonrpc": "1.0", "method": "notifications/initialized"}
    rejected(post(bad_version, mcp_session_id="s", mcp_protocol_version="2025-11-25"), 400, -32600)


@pytest.mark.parametrize("method", ["tools/call", "tools/list", "notifications/cancelled"])
def test_members_named_as_the_classifiers_own_fields_are_the_clients_and_ignored(method: str) -> None:
    """A message read by the general peek (a notification here) may carry members named as what the
    classifier itself notes on a peek (`typed`, `lean`, `tool`): they are unknown members of the client's,
    and the message is classified as it would be without them (not taken as decoded in one pass)."""
    plain = {"jsonrpc": "2.0", "method": method, "params": {"name": "add"}}
    hdrs = {"mcp_protocol_version": MODERN, "mcp_method": method, "mcp_name": "add"}
    expected = post(plain, **hdrs)
    outcome = post({**plain, "typed": {"name": "add"}, "lean": True, "tool": "add"}, **hdrs)
    assert type(outcome) is type(expected), (outcome, expected)
    if isinstance(expected, Rejection):
        assert isinstance(outcome, Rejection) and (outcome.status, outcome.body) == (
            expected.status,
            expected.body,
        )
    else:
        assert isinstance(outcome, inbound.Stateless) and isinstance(expected, inbound.Stateless)
        assert outcome.peek.typed is None and not outcome.peek.lean and outcome.peek.tool is None
        assert (outcome.revision, outcome.direct) == (expected.revision, expected.direct)


def test_the_general_peek_reads_a_struct_the_client_cannot_reach_past() -> None:
    """What the classifier notes beside a message's routing members (`typed`, `lean`, `tool`) is never
    read off the wire: a client's members of those names are unknown members, dropped as any other."""
    found = peek_message(
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"},'
        b'"typed":{"name":"add"},"lean":true,"tool":"add"}'
    )
    assert isinstance(found, Peek)
    assert (found.method, found.id, found.params and found.params.name) == ("tools/call", 1, "add")
    assert (found.typed, found.lean, found.tool) == (None, False, None)
    assert peek_message(b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]') == [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    ]


@pytest.mark.parametrize("params", [{"_meta": "x"}, {"_meta": 5}, {"_meta": [1]}, [1]])
def test_params_of_the_wrong_shape_are_refused_with_the_request_id(params: Any) -> None:
    """A request whose params (or their `_meta`) are no object is refused before any handler (-32600,
    as the general route answers it), and the error names the request's id, which is readable, so the
    client can tell which request failed, in either era."""
    message = request(7, "tools/list", params)
    outcomes = [post(message, mcp_session_id="s", mcp_protocol_version=STATEFUL)]
    if isinstance(params, dict):  # (the stateless headers mirror members of params that are an object)
        outcomes.append(stateless(message))
    for outcome in outcomes:
        assert isinstance(outcome, Rejection) and outcome.status == 400
        answer = json.loads(outcome.body)
        assert answer["id"] == 7 and answer["error"]["code"] == -32600, answer
        assert "$.params" in answer["error"]["message"] or "object" in answer["error"]["message"]
