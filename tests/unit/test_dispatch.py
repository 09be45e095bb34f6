"""The server's request decision (`protocol.dispatch`), in process: no sockets, no event loop."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.errors import InvalidParams, McpError, MethodNotFound
from mcpbind.protocol import dispatch, eras, revisions
from mcpbind.protocol.jsonrpc import PARSE_ERROR
from mcpbind.server import Context, Server

MODERN = revisions.MODERN[-1]
STATEFUL = revisions.STATEFUL[-1]


class _Offers:
    """A server offering `caps`, as `Server.missing_feature` answers for it."""

    def __init__(self, caps: dict[str, Any]) -> None:
        self.caps = caps
        self.missing_features: dict[str, str] = {}  # (nothing kept: asked each time)

    def missing_feature(self, method: str) -> str:
        return dispatch.missing_feature(method, self.caps)

    def answers_directly(self, params: Any) -> bool:
        return False  # (no tools registered: none can be answered without a connection)


ALL_FEATURES = _Offers(
    {"tools": {}, "resources": {"subscribe": True}, "prompts": {}, "completions": {}, "logging": {}}
)


def _raw(value: Any) -> msgspec.Raw:
    return msgspec.Raw(msgspec.json.encode(value))


def _meta(version: str = MODERN, **more: Any) -> dict[str, Any]:
    return {revisions.META_VERSION: version, **more}


def test_a_request_is_decided_by_its_revisions_table() -> None:
    rev = revisions.revision(MODERN)
    caps = {"sampling": {}}
    params = _raw(
        {"name": "add", "arguments": {"a": 1}, "_meta": _meta(**{revisions.META_CAPABILITIES: caps})}
    )
    decided = dispatch.decide("tools/call", params, None, rev, ALL_FEATURES)
    assert decided.revision is rev and decided.era is eras.ENVELOPE
    assert decided.spec is rev.requests["tools/call"]
    assert isinstance(decided.params, rev.type("CallToolRequestParams"))
    assert decided.params.name == "add" and decided.params.arguments == {"a": 1}
    assert decided.meta is not None and wire.to_builtins(decided.meta[revisions.META_CAPABILITIES]) == caps


def test_params_the_transport_decoded_are_used_as_they_are() -> None:
    rev = revisions.revision(MODERN)
    typed = rev.type("CallToolRequestParams")(name="add", meta=_meta())
    decided = dispatch.decide("tools/call", None, typed, rev, ALL_FEATURES)
    assert decided.params is typed and decided.meta is typed.meta


def test_answered_directly_is_part_of_the_decision() -> None:
    """A stateless call of a tool that takes no Context, carrying no input responses or request
    state, is decided `direct`; the same call in a session, or of a tool that takes a Context, or
    with a request state to check, is not: it goes to a connection."""
    server = Server("direct")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    async def shout(text: str, ctx: Context) -> str:
        return text.upper()

    def decided(name: str, revision: str, **more: Any) -> dispatch.Dispatch:
        meta = _meta(revision, **{revisions.META_CAPABILITIES: {}}) if revisions.is_modern(revision) else {}
        params = _raw({"name": name, "arguments": {"a": 1, "b": 2}, "_meta": meta, **more})
        return dispatch.decide("tools/call", params, None, revisions.revision(revision), server)

    assert decided("add", MODERN).direct
    # The rule the HTTP classifier applies alone to a call decoded in one pass is the decision's own.
    for name, revision in (("add", MODERN), ("shout", MODERN), ("missing", MODERN), ("add", STATEFUL)):
        made = decided(name, revision)
        alone = made.era.direct_calls and dispatch.answerable_directly("tools/call", made.params, server)
        assert made.direct == alone, (name, revision)
    assert not decided("add", STATEFUL).direct  # the session era runs every call on its connection
    assert not decided("shout", MODERN).direct
    assert not decided("missing", MODERN).direct  # (the connection answers that it is unknown)
    assert not decided("add", MODERN, requestState="sealed").direct
    assert not decided("add", MODERN, inputResponses={"k": {"action": "decline"}}).direct
    # Other methods never are, whatever the era.
    meta = _meta(**{revisions.META_CAPABILITIES: {}})
    listed = dispatch.decide("tools/list", _raw({"_meta": meta}), None, revisions.revision(MODERN), server)
    assert not listed.direct


def test_session_requests_belong_to_the_session_era() -> None:
    rev = revisions.revision(STATEFUL)
    decided = dispatch.decide("ping", None, None, rev, ALL_FEATURES)
    assert decided.era is eras.SESSION and decided.params is None


@pytest.mark.parametrize(
    ("method", "revision"),
    [("no/such", MODERN), ("sampling/createMessage", MODERN), ("roots/list", STATEFUL), ("ping", MODERN)],
)
def test_methods_a_client_cannot_send_are_not_found(method: str, revision: str) -> None:
    with pytest.raises(MethodNotFound, match=f"Method not found: '{method}'"):
        dispatch.decide(method, None, None, revisions.revision(revision), ALL_FEATURES)


def test_bad_params_are_invalid_and_bad_json_is_a_parse_error() -> None:
    rev = revisions.revision(MODERN)
    with pytest.raises(InvalidParams, match="requires params"):
        dispatch.decide("tools/call", None, None, rev, ALL_FEATURES)
    with pytest.raises(InvalidParams, match="Invalid params"):
        dispatch.decide("tools/call", _raw({"name": 5}), None, rev, ALL_FEATURES)
    for text in (
        b'{"name": "\xff"}',
        b'{"name": "x", "arguments": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_000 + b"}",
    ):
        with pytest.raises(McpError) as caught:
            dispatch.decide("tools/call", msgspec.Raw(text), None, rev, ALL_FEATURES)
        assert caught.value.code == PARSE_ERROR


def test_features_the_server_does_not_offer_are_not_found() -> None:
    rev = revisions.revision(STATEFUL)
    tools_only = _Offers({"tools": {}, "resources": {}})
    with pytest.raises(MethodNotFound, match="does not offer prompts"):
        dispatch.decide("prompts/list", None, None, rev, tools_only)
    with pytest.raises(MethodNotFound, match="does not offer resources"):
        dispatch.decide("resources/subscribe", _raw({"uri": "a://b"}), None, rev, tools_only)
    assert dispatch.decide("resources/list", None, None, rev, tools_only).spec.name == "resources/list"
    assert dispatch.missing_feature("completion/complete", {}) == "completions"
    assert dispatch.missing_feature("ping", {}) == ""


def test_what_a_server_offers_is_decided_anew_once_its_registry_changes() -> None:
    """The server keeps each method's answer (`Gate.missing_features`, read with no call) only while
    what it offers stays the same: a tool or a completion registered, or a tool removed, is seen at
    the next decision."""
    rev = revisions.revision(STATEFUL)
    server = Server("offers", "1.0.0")
    call = _raw({"name": "late", "arguments": {}})
    for _ in range(2):  # (the second time from what was kept)
        with pytest.raises(MethodNotFound, match="does not offer tools"):
            dispatch.decide("tools/call", call, None, rev, server)
    assert server.missing_features == {"tools/call": "tools"}

    @server.tool()
    async def late() -> str:
        return "here"

    assert dispatch.decide("tools/call", call, None, rev, server).params.name == "late"
    complete = _raw({"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": ""}})
    with pytest.raises(MethodNotFound, match="does not offer completions"):
        dispatch.decide("completion/complete", complete, None, rev, server)
    server.completion("prompt", "p")(lambda name, value, context: [])
    assert (
        dispatch.decide("completion/complete", complete, None, rev, server).spec.name == "completion/complete"
    )
    server.remove_tool("late")
    with pytest.raises(MethodNotFound, match="does not offer tools"):
        dispatch.decide("tools/call", call, None, rev, server)


def test_a_request_outside_a_session_is_served_in_the_version_it_names() -> None:
    served = revisions.ALL
    assert dispatch.negotiate("tools/list", MODERN, served) is revisions.revision(MODERN)
    assert dispatch.negotiate("ping", None, served) is None  # answered with an empty result
    # 2026-07-28 has no `ping`: a server of it alone finds no such method.
    with pytest.raises(MethodNotFound, match="Method not found: 'ping'"):
        dispatch.negotiate("ping", None, revisions.MODERN)
    with pytest.raises(InvalidParams, match="send `initialize` first"):
        dispatch.negotiate("tools/list", None, served)
    # A server of the stateless era alone refuses `initialize`: it does not ask for it.
    with pytest.raises(InvalidParams) as caught:
        dispatch.negotiate("tools/list", None, revisions.MODERN)
    assert "initialize" not in caught.value.message and "carry the version" in caught.value.message
    for requested, offered in [("1999-01-01", served), (MODERN, revisions.STATEFUL)]:
        with pytest.raises(McpError) as caught:
            dispatch.negotiate("tools/list", requested, offered)
        assert caught.value.code == revisions.UNSUPPORTED_PROTOCOL_VERSION
        assert caught.value.data == {"supported": sorted(offered, reverse=True), "requested": requested}


def test_a_session_revision_named_in_meta_is_said_to_be_served_through_initialize() -> None:
    """The server speaks it, but not in a request's `_meta`: the refusal says so, and lists under
    `supported` only the stateless revisions such a request can use (not the one it named)."""
    with pytest.raises(McpError) as caught:
        dispatch.negotiate("tools/list", STATEFUL, revisions.ALL)
    assert caught.value.code == revisions.UNSUPPORTED_PROTOCOL_VERSION
    assert "served through initialize" in caught.value.message and STATEFUL in caught.value.message
    assert caught.value.data == {"supported": sorted(revisions.MODERN, reverse=True), "requested": STATEFUL}
    # The data keeps the shape 2026-07-28 gives an UnsupportedProtocolVersion error.
    error = {"code": caught.value.code, "message": caught.value.message, "data": caught.value.data}
    msgspec.convert(error, revisions.module(MODERN).UnsupportedProtocolVersionErrorError)


def test_the_requested_version_is_read_off_meta_alone() -> None:
    assert dispatch.requested_version(_raw({"_meta": _meta(), "name": 5})) == MODERN
    assert dispatch.requested_version(_raw({"name": "x"})) is None
    assert dispatch.requested_version(_raw({"_meta": 5})) is None
    assert dispatch.requested_version(None) is None
    with pytest.raises(McpError) as caught:
        dispatch.requested_version(
            msgspec.Raw(b'{"_meta": {"' + revisions.META_VERSION.encode() + b'": "\xff"}}')
        )
    assert caught.value.code == PARSE_ERROR


def test_a_version_that_is_not_text_is_refused_as_such() -> None:
    """A number or an object where `_meta` names the version was taken for no version at all (-32602,
    "no protocol version"); it is a version the server cannot speak: -32022, quoted as JSON text."""
    for value, quoted_back in [
        (20260728, "20260728"),
        ({"v": 1}, '{"v":1}'),
        (True, "true"),
    ]:
        requested = dispatch.requested_version(_raw({"_meta": {revisions.META_VERSION: value}}))
        assert requested == value
        with pytest.raises(McpError) as caught:
            dispatch.negotiate("tools/list", requested, revisions.ALL)
        assert caught.value.code == revisions.UNSUPPORTED_PROTOCOL_VERSION
        assert "not text" in caught.value.message
        assert caught.value.data == {
            "supported": sorted(revisions.ALL, reverse=True),
            "requested": quoted_back,
        }
        error = {"code": caught.value.code, "message": caught.value.message, "data": caught.value.data}
        msgspec.convert(error, revisions.module(MODERN).UnsupportedProtocolVersionErrorError)
    # A ping that names a version that is not text is refused too (one that names none is answered).
    with pytest.raises(McpError):
        dispatch.negotiate("ping", 5, revisions.ALL)
    # A null version is none: the general refusal (or, for a ping, the empty result).
    assert dispatch.requested_version(_raw({"_meta": {revisions.META_VERSION: None}})) is None


def test_the_decision_needs_no_event_loop() -> None:
    """The protocol core's decision modules never import asyncio (checked in a fresh interpreter)."""
    code = (
        "import sys, mcpbind.protocol.dispatch, mcpbind.protocol.eras, mcpbind.protocol.revisions; "
        "sys.exit('asyncio' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_initialize_opens_the_clients_revision_or_the_newest_the_server_speaks() -> None:
    caps = {"elicitation": {"url": {}, "form": {}}, "sampling": {}}
    info = {"name": "c", "version": "1"}

    def opened(version: str, served: tuple[str, ...] = revisions.ALL) -> dispatch.Handshake:
        params = _raw({"protocolVersion": version, "capabilities": caps, "clientInfo": info})
        return dispatch.handshake(params, served)

    assert opened("2025-06-18").revision is revisions.revision("2025-06-18")
    assert opened("1999-01-01").revision is revisions.revision(STATEFUL)
    assert opened(MODERN).revision is revisions.revision(STATEFUL)  # no stateless session
    assert opened("2025-11-25").client_capabilities == caps
    assert opened("2025-06-18").client_capabilities == {"elicitation": {}, "sampling": {}}  # no URL mode yet
    assert opened("2025-03-26").client_capabilities == {"sampling": {}}  # no elicitation yet
    assert opened("2025-03-26").client_info == info
    with pytest.raises(MethodNotFound, match="initialize"):
        opened("2025-06-18", served=revisions.MODERN)
    # The newest the server speaks, in whatever order it names them (`revisions_served` keeps its own).
    assert opened("2025-11-25", served=("2025-06-18", "2025-03-26")).revision is revisions.revision(
        "2025-06-18"
    )
    assert opened("1999-01-01", served=("2025-11-25", MODERN, "2024-11-05")).revision.name == "2025-11-25"
    with pytest.raises(InvalidParams):
        dispatch.handshake(_raw({"protocolVersion": 5}), revisions.ALL)
    with pytest.raises(McpError) as caught:
        dispatch.handshake(msgspec.Raw(b'{"protocolVersion": "\xff"}'), revisions.ALL)
    assert caught.value.code == PARSE_ERROR
