"""The Streamable HTTP client's request headers (`HeaderShapes`): kept made per method and name, and made
again whenever the session, the revision or the transport's own headers change (in place too)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mcpbind.protocol.headers import Peek, PeekParams
from mcpbind.transports.http.http11 import FixedHeaders
from mcpbind.transports.http.outgoing import HeaderShapes


@dataclass
class State:
    headers: dict[str, str] = field(default_factory=dict)
    session_id: str | None = None
    revision: str | None = "2026-07-28"
    param_headers: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    stateless: bool = True


def call(name: str) -> Peek:
    return Peek("tools/call", 1, PeekParams(name=name))


def test_same_shape_same_headers_and_each_name_its_own() -> None:
    shapes, state = HeaderShapes(), State()
    first = shapes.shaped(state, call("echo"), None)
    assert first["mcp-method"] == "tools/call"
    assert first["mcp-name"] == "echo"
    assert first["mcp-protocol-version"] == "2026-07-28"
    assert shapes.shaped(state, call("echo"), None) is first
    other = shapes.shaped(state, call("add"), None)
    assert other["mcp-name"] == "add"
    assert shapes.shaped(state, call("echo"), None) is first
    listed = shapes.shaped(state, Peek("tools/list", 2, None), None)
    assert listed["mcp-method"] == "tools/list"
    assert "mcp-name" not in listed


def test_only_the_headers_kept_per_shape_are_fixed() -> None:
    """A shape's headers, kept and shared, say so (`FixedHeaders`: the HTTP client finds their head by
    the dict alone); those made for one request (an auth hook's) are a plain dict of their own."""
    shapes, state = HeaderShapes(), State()
    assert type(shapes.shaped(state, call("echo"), None)) is FixedHeaders
    authorized = shapes.shaped(state, call("echo"), {"authorization": "Bearer t"})
    assert type(authorized) is dict
    assert authorized["authorization"] == "Bearer t"
    assert shapes.shaped(state, call("echo"), {"authorization": "Bearer t"}) is not authorized


@pytest.mark.parametrize("change", ["session", "version", "header added", "header changed in place"])
def test_a_change_of_state_makes_the_headers_again(change: str) -> None:
    shapes, state = HeaderShapes(), State(headers={"x-trace": "a"}, session_id="s1")
    before = shapes.shaped(state, call("echo"), None)
    assert before["x-trace"] == "a"
    assert before["mcp-session-id"] == "s1"
    if change == "session":
        state.session_id = "s2"
    elif change == "version":
        state.revision = "2025-11-25"
        state.stateless = False
    elif change == "header added":
        state.headers["x-more"] = "b"
    else:
        state.headers["x-trace"] = "changed"
    after = shapes.shaped(state, call("echo"), None)
    assert after is not before
    expected = {
        "session": ("mcp-session-id", "s2"),
        "version": ("mcp-protocol-version", "2025-11-25"),
        "header added": ("x-more", "b"),
        "header changed in place": ("x-trace", "changed"),
    }[change]
    assert after[expected[0]] == expected[1]
    if change == "version":
        assert "mcp-method" not in after  # the session era routes by the body alone
    assert shapes.shaped(state, call("echo"), None) is after


def test_back_to_an_earlier_state_finds_its_headers_and_authorization_is_never_kept() -> None:
    shapes, state = HeaderShapes(), State(session_id="s1")
    first = shapes.shaped(state, call("echo"), None)
    state.session_id = "s2"
    second = shapes.shaped(state, call("echo"), None)
    state.session_id = "s1"
    assert shapes.shaped(state, call("echo"), None) == first
    authorized = shapes.shaped(state, call("echo"), {"authorization": "Bearer t"})
    assert authorized["authorization"] == "Bearer t"
    assert "authorization" not in shapes.shaped(state, call("echo"), None)
    assert second["mcp-session-id"] == "s2"


def test_mirrored_arguments_are_read_per_request() -> None:
    shapes = HeaderShapes()
    state = State(param_headers={"echo": {"Region": ("region",)}})
    east = Peek("tools/call", 1, PeekParams(name="echo", arguments=b'{"region":"east"}'))
    west = Peek("tools/call", 2, PeekParams(name="echo", arguments=b'{"region":"west"}'))
    assert shapes.shaped(state, east, None)["mcp-param-region"] == "east"
    assert shapes.shaped(state, west, None)["mcp-param-region"] == "west"


def test_many_names_past_the_bound_are_still_right() -> None:
    shapes, state = HeaderShapes(), State()
    for n in range(1000):
        assert shapes.shaped(state, call(f"tool{n}"), None)["mcp-name"] == f"tool{n}"
    # Still right after the tables were emptied and refilled.
    assert shapes.shaped(state, call("tool999"), None)["mcp-name"] == "tool999"
    assert shapes.shaped(state, call("tool0"), None)["mcp-name"] == "tool0"
