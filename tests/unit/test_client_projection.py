"""`client.projection` and the decoders `prepared` makes of it: an older revision's result read straight
into the newest type where the types agree, with the same outcome, value or error, as the general way
(decoded by the negotiated revision's type, encoded, decoded as the newest); and a stateless result
tried as a final result first, with the same outcome as reading its tag first."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.client.prepared import prepare
from mcpbind.client.projection import direct
from mcpbind.generated import v2024_11_05, v2025_11_25, v2026_07_28
from mcpbind.protocol import revisions

LATEST = revisions.revision(revisions.LATEST)

# Variants of a tools/call result as a 2025-11-25 server might send it: valid, invalid in 2025-11-25,
# invalid only in the newest revision, carrying members only the newest revision has, or none knows.
RESULTS = [
    b'{"content":[{"type":"text","text":"hi"}],"isError":false}',
    b'{"content":[]}',
    b'{"content":[{"type":"text","text":"hi"}],"resultType":"complete"}',
    b'{"content":[{"type":"text","text":"hi"}],"resultType":"input_required"}',
    b'{"content":[{"type":"text","text":"hi"}],"resultType":7}',
    b'{"content":[{"type":"text","text":"hi"}],"structuredContent":{"total":5}}',
    b'{"content":[{"type":"text","text":"hi"}],"structuredContent":[1,2]}',
    b'{"content":[{"type":"text","text":"hi"}],"structuredContent":null}',
    b'{"content":[{"type":"text","text":"hi"}],"_meta":{"a":{"b":[1,2.5,"c"]}}}',
    b'{"content":[{"type":"text","text":"hi"}],"_meta":{"io.modelcontextprotocol/related-task":7}}',
    b'{"content":[{"type":"text","text":"hi"}],"_meta":[]}',
    b'{"content":[{"type":"text","text":"hi","annotations":{"priority":0.5,"audience":["user"]}}]}',
    b'{"content":[{"type":"text","text":"hi","annotations":{"priority":2}}]}',
    b'{"content":[{"type":"text","text":"hi","extra":1}],"extra":{"x":1}}',
    b'{"content":[{"type":"someday","x":1}]}',
    b'{"content":[{"type":"text"}]}',
    b'{"content":[{"type":"image","data":"AA==","mimeType":"image/png"}]}',
    b'{"content":[{"type":"resource","resource":{"uri":"a:b","text":"t"}}]}',
    b'{"content":[{"type":"resource","resource":{"uri":"a:b","blob":"AA=="}}]}',
    b'{"content":[{"type":"resource","resource":{"uri":"a:b"}}]}',
    b'{"content":[{"type":"resource_link","uri":"a:b","name":"n","icons":[{"src":"x","theme":"dark"}]}]}',
    b'{"content":[{"type":"resource_link","uri":"a:b","name":"n","icons":[{"src":"x","theme":"pink"}]}]}',
    b'{"content":"not a list"}',
    b'{"isError":true}',
    b"[]",
    b'{"content":[{"type":"text","text":"\\ud800"}]}',
]


def _warmed(revision: str, method: str, name: str) -> tuple[Any, bool]:
    """The prepared request once its decoder has read enough results to be analysed (`prepared`
    asks `projection` after a few), and whether it now reads them straight (the decoder made for
    that, by its name: the outcomes are the same by design, only the decoder itself can tell)."""
    for _ in range(32):
        current = prepare(revision, method, None, name)
        assert current is not None
        try:
            current.decode(msgspec.Raw(b"{}"))  # (any answer counts, valid or not)
        except msgspec.DecodeError:
            pass
    prepared = prepare(revision, method, None, name)
    assert prepared is not None
    return prepared, prepared.decode.__qualname__.startswith("_straight.")


def _general(raw: bytes, old: Any, new: Any) -> tuple[str, Any]:
    """The general way's outcome: the result's type and encoding, or the error's type and text."""
    try:
        checked = wire.decoder(old).decode(raw)
        result = wire.decoder(new).decode(wire.encode(checked))
    except (msgspec.DecodeError, RecursionError) as exc:
        return type(exc).__name__, str(exc)
    return type(result).__name__, msgspec.json.decode(wire.encode(result))


def _outcome(decode: Any, raw: bytes) -> tuple[str, Any]:
    try:
        result = decode(msgspec.Raw(raw))
    except (msgspec.DecodeError, RecursionError) as exc:
        return type(exc).__name__, str(exc)
    return type(result).__name__, msgspec.json.decode(wire.encode(result))


def test_types_that_agree_are_found_and_those_that_differ_are_not() -> None:
    checks = direct(v2025_11_25.CallToolResult, v2026_07_28.CallToolResult)
    assert checks is not None and sorted(name for name, _, _ in checks) == [
        "result_type",
        "structured_content",
    ]
    # 2024-11-05 has no `structuredContent`: a member the older type lacks is read the general way.
    assert direct(v2024_11_05.CallToolResult, v2026_07_28.CallToolResult) is None
    assert direct(v2025_11_25.CallToolResult, v2026_07_28.ListToolsResult) is None
    assert direct(dict[str, Any], v2026_07_28.CallToolResult) is None


@pytest.mark.parametrize("raw", RESULTS)
def test_a_result_read_straight_has_the_general_ways_outcome(raw: bytes) -> None:
    prepared, straight = _warmed("2025-11-25", "tools/call", "CallToolResult")
    assert straight
    expected = _general(raw, v2025_11_25.CallToolResult, LATEST.type("CallToolResult"))
    assert _outcome(prepared.decode, raw) == expected


@pytest.mark.parametrize("revision", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"])
@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("resources/read", "ReadResourceResult"),
        ("prompts/get", "GetPromptResult"),
        ("tools/list", "ListToolsResult"),
        ("resources/list", "ListResourcesResult"),
    ],
)
def test_other_results_of_older_revisions_have_the_general_ways_outcome(
    revision: str, method: str, name: str
) -> None:
    prepared, straight = _warmed(revision, method, name)
    old = revisions.revision(revision).type(name)
    new = LATEST.type(name)
    assert straight == (direct(old, new) is not None)
    for raw in (
        b'{"contents":[{"uri":"a:b","text":"t"}],"ttlMs":5}',
        b'{"contents":[{"uri":"a:b","blob":"AA=="}],"resultType":"complete","cacheScope":"public"}',
        b'{"messages":[{"role":"user","content":{"type":"text","text":"x"}}],"description":"d"}',
        b'{"messages":[{"role":"robot","content":{"type":"text","text":"x"}}]}',
        b'{"tools":[{"name":"t","inputSchema":{"type":"object"}}],"nextCursor":"c"}',
        b'{"resources":[{"uri":"a:b","name":"n"}],"ttlMs":0}',
        b'{"resources":[{"uri":"a:b"}]}',
        b"{}",
    ):
        assert _outcome(prepared.decode, raw) == _general(raw, old, LATEST.type(name))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"content":[{"type":"text","text":"hi"}]}',
        b'{"content":[{"type":"text","text":"hi"}],"resultType":"complete"}',
        b'{"resultType":"input_required","inputRequests":{},"requestState":"s"}',
        b'{"resultType":"input_required","content":[{"type":"text","text":"hi"}]}',
        b'{"resultType":"someday","x":1}',
        b'{"resultType":7,"content":[]}',
        b'{"content":[{"type":"someday","x":1}]}',
        b'{"content":"not a list"}',
        b'{"content":[],"structuredContent":[1]}',
        b"[]",
    ],
)
def test_a_stateless_result_tried_as_final_first_has_the_unions_outcome(raw: bytes) -> None:
    prepared = prepare("2026-07-28", "tools/call", None, "CallToolResult")
    assert prepared is not None
    union = prepared.spec.result_type
    assert _outcome(prepared.decode, raw) == _outcome(wire.decoder(union).decode, raw)
