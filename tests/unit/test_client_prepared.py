"""`client.prepared`: requests prepared once per revision and method; results read into the newest
revision's types from the bytes sent; the stateless `_meta` converted once while it stays the same."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.client.prepared import MetaMemo, prepare
from mcpbind.generated import v2025_11_25, v2026_07_28
from mcpbind.protocol import revisions

TEXT_RESULT = msgspec.Raw(b'{"content":[{"type":"text","text":"hi"}],"isError":false}')


def test_prepared_once_per_revision_method_and_result_type() -> None:
    first = prepare("2025-11-25", "tools/call", None, "CallToolResult")
    assert first is not None
    assert prepare("2025-11-25", "tools/call", None, "CallToolResult") is first
    assert prepare("2025-11-25", "tools/call") is not first
    assert prepare("2025-11-25", "server/discover") is None  # not a method of that revision
    assert prepare("2026-07-28", "tools/call", dict[str, Any]) is not None


def test_an_older_revisions_result_is_checked_by_its_types_then_read_as_the_newest() -> None:
    prepared = prepare("2025-11-25", "tools/call", None, "CallToolResult")
    assert prepared is not None
    result = prepared.decode(TEXT_RESULT)
    assert type(result) is revisions.revision(revisions.LATEST).type("CallToolResult")
    assert result.content[0].text == "hi"
    # Invalid in the revision the server speaks: refused by its types, as before.
    with pytest.raises(msgspec.ValidationError):
        prepared.decode(msgspec.Raw(b'{"content":"not a list"}'))
    # Without `latest`: the negotiated revision's own type.
    plain = prepare("2025-11-25", "tools/call")
    assert plain is not None and type(plain.decode(TEXT_RESULT)) is v2025_11_25.CallToolResult


def test_what_the_negotiated_revision_lacks_stays_out_of_the_newest_type() -> None:
    # A 2024-11-05 server that sends `structuredContent` anyway (its revision has none): the result
    # holds what the revision it speaks holds, in the newest revision's type.
    prepared = prepare("2024-11-05", "tools/call", None, "CallToolResult")
    assert prepared is not None
    raw = b'{"content":[{"type":"text","text":"5"}],"structuredContent":{"total":5}}'
    result = prepared.decode(msgspec.Raw(raw))
    assert type(result) is revisions.revision(revisions.LATEST).type("CallToolResult")
    assert result.structured_content is msgspec.UNSET and result.content[0].text == "5"


def test_a_result_of_a_kind_the_revision_lacks_stays_unknown() -> None:
    prepared = prepare("2026-07-28", "tools/call", None, "CallToolResult")
    assert prepared is not None
    result = prepared.decode(msgspec.Raw(b'{"resultType":"someday","x":1}'))
    assert type(result) is wire.Unknown and result == {"resultType": "someday", "x": 1}


def test_the_stateless_meta_is_converted_once_while_it_stays_the_same() -> None:
    prepared = prepare("2026-07-28", "tools/call")
    assert prepared is not None and prepared.meta_type is v2026_07_28.RequestMetaObject
    memo = MetaMemo()
    info = {"name": "c", "version": "1"}
    meta = {
        revisions.META_VERSION: "2026-07-28",
        revisions.META_CAPABILITIES: {},
        revisions.META_CLIENT: info,
    }
    first = memo.converted(dict(meta), v2026_07_28.RequestMetaObject)
    assert type(first) is v2026_07_28.RequestMetaObject and wire.to_builtins(first) == meta
    assert memo.converted(dict(meta), v2026_07_28.RequestMetaObject) is first
    info["version"] = "2"  # changed in place: compared by value, converted again
    second = memo.converted(dict(meta), v2026_07_28.RequestMetaObject)
    assert second is not first
    assert wire.to_builtins(second)[revisions.META_CLIENT] == {"name": "c", "version": "2"}
    with pytest.raises(msgspec.ValidationError):
        memo.converted({**meta, revisions.META_LOG_LEVEL: "loud"}, v2026_07_28.RequestMetaObject)
