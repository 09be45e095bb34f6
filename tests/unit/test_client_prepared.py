"""`client.prepared`: requests prepared once per revision and method; results read into the newest
revision's types from the bytes sent; the stateless `_meta` converted once while it stays the same."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.client import prepared as prepared_module
from mcpbind.client.prepared import PREPARED, MetaMemo, prepare
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


def test_the_stateless_meta_is_converted_once_while_its_key_stays_the_same() -> None:
    prepared = prepare("2026-07-28", "tools/call")
    assert prepared is not None and prepared.meta_type is v2026_07_28.RequestMetaObject
    memo = MetaMemo()
    info = {"name": "c", "version": "1"}
    meta = {
        revisions.META_VERSION: "2026-07-28",
        revisions.META_CAPABILITIES: {},
        revisions.META_CLIENT: info,
    }
    built: list[int] = []

    def build() -> dict[str, Any]:
        built.append(1)
        return dict(meta)

    first = memo.converted(("k", 1), v2026_07_28.RequestMetaObject, build)
    assert type(first) is v2026_07_28.RequestMetaObject and wire.to_builtins(first) == meta
    assert memo.converted(("k", 1), v2026_07_28.RequestMetaObject, build) is first
    assert len(built) == 1  # the same key: neither built nor converted again
    info["version"] = "2"
    second = memo.converted(("k", 2), v2026_07_28.RequestMetaObject, build)
    assert second is not first and len(built) == 2
    assert wire.to_builtins(second)[revisions.META_CLIENT] == {"name": "c", "version": "2"}
    # A dict in the key that changes in place is a change (the memo keeps a copy of the key).
    live = {"version": "2"}
    third = memo.converted(("k", live), v2026_07_28.RequestMetaObject, build)
    assert memo.converted(("k", live), v2026_07_28.RequestMetaObject, build) is third
    live["version"] = "3"
    assert memo.converted(("k", live), v2026_07_28.RequestMetaObject, build) is not third
    assert len(built) == 4
    with pytest.raises(msgspec.ValidationError):
        memo.converted(
            ("k", 3), v2026_07_28.RequestMetaObject, lambda: {**meta, revisions.META_LOG_LEVEL: "loud"}
        )


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_params_convert_as_wire_convert_does_with_or_without_the_hook(revision: str) -> None:
    prepared = prepare(revision, "tools/call")
    assert prepared is not None
    tp = prepared.spec.params_type
    # A plain dict where an open object goes: only the hook converts it.
    meta: dict[str, Any] = {"progressToken": "p1"}
    if revision == "2026-07-28":
        meta |= {
            revisions.META_VERSION: revision,
            revisions.META_CAPABILITIES: {},
            revisions.META_CLIENT: {"name": "c", "version": "1"},
        }
    assert prepared.meta_type is not None
    ready = wire.convert(meta, prepared.meta_type)  # converted already: no hook needed
    cases: list[dict[str, Any]] = [
        {"name": "t", "arguments": {"a": [1, {"b": None}]}, "_meta": ready},
        {"name": "t", "_meta": meta},
    ]
    if revision == "2025-11-25":
        cases.append({"name": "t", "arguments": {}})  # no `_meta` at all
    for params in cases:
        got = prepared.convert(params)
        assert type(got) is tp and got == wire.convert(params, tp)
    assert type(prepared.convert({"name": "t", "_meta": meta}).meta) is not dict  # converted, by the hook
    for bad in ({"name": 5, "_meta": meta}, {"arguments": {}, "_meta": meta}, {"name": "t", "_meta": []}):
        with pytest.raises(msgspec.ValidationError) as fast:
            prepared.convert(bad)
        with pytest.raises(msgspec.ValidationError) as full:
            wire.convert(bad, tp)
        assert str(fast.value) == str(full.value)


def test_a_stateless_result_is_decoded_by_its_tag_as_the_union_decodes_it() -> None:
    prepared = prepare("2026-07-28", "tools/call")
    assert prepared is not None
    union = wire.decoder(prepared.spec.result_type).decode
    same = [
        b'{"content":[{"type":"text","text":"x"}]}',  # no tag: the member its absence stands for
        b'{"content":[{"type":"text","text":"x"}],"resultType":"complete"}',
        b'{"resultType":"input_required","inputRequests":{},"requestState":"s"}',
        b'{"resultType":"someday","x":1}',  # an extension's kind: Unknown, by the union's decoder
        b'{"content":[{"type":"new-kind","z":1}]}',  # a content block of a kind the revision lacks
    ]
    for raw in same:
        got, want = prepared.decode(msgspec.Raw(raw)), union(msgspec.Raw(raw))
        assert type(got) is type(want) and wire.to_builtins(got) == wire.to_builtins(want)
    for bad in (b"[1]", b'{"content":5}', b'{"resultType":[1]}', b'{"resultType":"complete"}'):
        with pytest.raises(msgspec.ValidationError) as fast:
            prepared.decode(msgspec.Raw(bad))
        with pytest.raises(msgspec.ValidationError) as full:
            union(msgspec.Raw(bad))
        assert str(fast.value) == str(full.value)


def test_the_stateless_meta_is_encoded_with_its_conversion_and_sent_as_those_bytes() -> None:
    prepared = prepare("2026-07-28", "tools/call")
    assert prepared is not None and prepared.meta_type is not None and prepared.meta_attr == "meta"
    memo = MetaMemo()
    meta = {revisions.META_VERSION: "2026-07-28", revisions.META_CAPABILITIES: {}}
    converted, raw = memo.encoded(
        ("k",), prepared.meta_type, lambda: {**meta, revisions.META_CLIENT: {"name": "c", "version": "1"}}
    )
    assert type(raw) is msgspec.Raw and bytes(raw) == wire.encode(converted)
    assert memo.encoded(("k",), prepared.meta_type, dict)[1] is raw  # the same key: the same bytes
    # The params carry the bytes in place of the object: the request reads as it did.
    params = prepared.convert({"name": "echo", "arguments": {"x": 1}, "_meta": converted})
    expected = wire.encode(params)
    setattr(params, prepared.meta_attr, raw)
    assert msgspec.json.decode(wire.encode(params)) == msgspec.json.decode(expected)
    _, again = memo.encoded(
        ("k2",), prepared.meta_type, lambda: {**meta, revisions.META_CLIENT: {"name": "c", "version": "2"}}
    )
    assert b'"version":"2"' in bytes(again)


def test_a_method_sent_a_few_times_sends_the_same_bytes_the_shorter_way() -> None:
    """Stateless params given with no `_meta`, once their method was sent a few times (`loosen`), are
    converted as given and take the `_meta` bytes afterwards: the request's bytes stay those of the
    general way, what the shorter type refuses goes the general way (the same error), and a `_meta`
    in the params or of the caller's is added as before."""
    import asyncio

    from mcpbind.client import Client
    from mcpbind.server import Server

    server = Server("loose")

    @server.tool()
    def echo(text: str) -> str:
        return text

    async def main() -> None:
        async with Client.memory(server, mode="2026-07-28") as client:
            sent: list[bytes] = []
            request = client.peer.request

            def record(method: str, params: Any, *args: Any, **kwargs: Any) -> Any:
                sent.append(wire.encode(params))
                return request(method, params, *args, **kwargs)

            client.peer.request = record  # type: ignore[method-assign]
            key = ("2026-07-28", "tools/call", None, "CallToolResult")
            PREPARED.pop(key, None)  # (made afresh: counted from the first request on)
            prepared_module._sent.pop(key, None)
            for i in range(12):
                assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"
                loose = PREPARED[key]
                assert loose is not None and (loose.loose is not None) == (i >= 7)
            assert len(set(sent)) == 1  # the general way's bytes (the first 8) and the shorter way's
            assert loose.loose is not None and isinstance(sent, list)
            # A body of the shorter type is one of the params type.
            body = msgspec.convert({"name": "echo"}, loose.loose)
            assert isinstance(body, v2026_07_28.CallToolRequestParams)
            # Refused by both ways alike: a name that is no string.
            refusals = []
            for prepared_loose in (loose.loose, None):
                PREPARED[key] = loose._replace(loose=prepared_loose)
                with pytest.raises(msgspec.ValidationError) as refused:
                    await client.call_tool(123, {"text": "hi"})  # type: ignore[arg-type]
                refusals.append(str(refused.value))
            assert refusals[0] == refusals[1]
            # A `_meta` in the params, or the caller's own, is added to the one every request has.
            del sent[:]
            await client.request(
                "tools/call", {"name": "echo", "arguments": {"text": "a"}, "_meta": {"k": 1}}
            )
            await client.request("tools/call", {"name": "echo", "arguments": {"text": "a"}}, meta={"k": 1})
            assert all(b'"k":1' in body and b"protocolVersion" in body for body in sent)

    asyncio.run(main())


def test_a_stateful_request_sends_what_the_general_way_sends_and_refuses_alike() -> None:
    """A stateful revision's request given params as a dict and no `meta` is converted as given (no
    copy): the same body as the general way, a `_meta` in them (which needs the hook) read alike,
    and params the type refuses refused with the same error."""
    import asyncio

    from mcpbind.client import Client
    from mcpbind.server import Server

    server = Server("stateful")

    @server.tool()
    def echo(text: str) -> str:
        return text

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            sent: list[Any] = []
            request = client.peer.request

            def record(method: str, params: Any, *args: Any, **kwargs: Any) -> Any:
                sent.append(params)
                return request(method, params, *args, **kwargs)

            client.peer.request = record  # type: ignore[method-assign]
            prepared = prepare("2025-11-25", "tools/call")
            assert prepared is not None
            given: list[dict[str, Any]] = [
                {"name": "echo", "arguments": {"text": "hi"}},
                {"name": "echo", "arguments": {"text": "hi"}, "_meta": {"progressToken": "p", "k": [1]}},
            ]
            for params in given:
                before = dict(params)
                assert (await client.request("tools/call", params)).content[0].text == "hi"
                assert params == before  # (the caller's dict as it was)
                body = sent.pop()
                assert type(body) is prepared.spec.params_type
                assert wire.encode(body) == wire.encode(wire.convert(params, prepared.spec.params_type))
            bad = {"name": 123, "arguments": {"text": "hi"}}
            with pytest.raises(msgspec.ValidationError) as refused:
                await client.request("tools/call", bad)
            with pytest.raises(msgspec.ValidationError) as general:
                wire.convert(bad, prepared.spec.params_type)
            assert str(refused.value) == str(general.value)

    asyncio.run(main())
