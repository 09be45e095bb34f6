"""The wire rules of the generated bindings, one by one, in every revision where they apply."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.codegen.pins import load_pins, published_pins

from ..conftest import REVISIONS, module, same_json

v2024 = module("2024-11-05")
v2025_03 = module("2025-03-26")
v2025_06 = module("2025-06-18")
v2025 = module("2025-11-25")
v2026 = module("2026-07-28")

META_2026 = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {"roots": {}},
}


def envelope(tp: Any, rid: Any = 1) -> dict[str, Any]:
    """The JSON-RPC members a revision's message type declares itself (2025-11-25 on)."""
    names = {f.encode_name for f in msgspec.structs.fields(tp)}
    out: dict[str, Any] = {"jsonrpc": "2.0"} if "jsonrpc" in names else {}
    if "id" in names and rid is not None:
        out["id"] = rid
    return out


def empty_result(revision: str) -> dict[str, Any]:
    return {"resultType": "complete"} if module(revision).STATELESS else {}


def round_trip(raw: Any, tp: Any) -> Any:
    value = wire.decode(json.dumps(raw), tp)
    again = json.loads(wire.encode(value))
    assert same_json(again, raw), again
    return value


def test_unset_members_are_absent_and_constants_always_sent() -> None:
    out = json.loads(wire.encode(v2025.JSONRPCNotification(method="notifications/initialized")))
    assert out == {"jsonrpc": "2.0", "method": "notifications/initialized"}
    tool = json.loads(wire.encode(v2026.TextContent(text="x")))
    assert tool == {"type": "text", "text": "x"}
    assert v2026.TextContent(text="x").type == "text"
    assert v2026.CallToolRequest.method == "tools/call"


@pytest.mark.parametrize("revision", REVISIONS)
def test_numbers_keep_their_form(revision: str) -> None:
    mod = module(revision)
    for progress in (1, 1.0, 0.5):
        raw = {"method": "notifications/progress", "params": {"progressToken": 7, "progress": progress}}
        raw |= envelope(mod.ProgressNotification, None)
        value = round_trip(raw, mod.ProgressNotification)
        assert type(value.params.progress) is type(progress)


@pytest.mark.parametrize("revision", REVISIONS)
def test_request_ids_and_progress_tokens_are_string_or_number(revision: str) -> None:
    mod = module(revision)
    for rid in ("a", 3, 3.5):
        round_trip(
            {"jsonrpc": "2.0", "id": rid, "result": empty_result(revision)},
            mod.JSONRPCResultResponse if hasattr(mod, "JSONRPCResultResponse") else mod.JSONRPCResponse,
        )
    with pytest.raises(msgspec.ValidationError, match=r"\$\.id"):
        wire.decode(
            b'{"jsonrpc":"2.0","id":true,"result":{}}',
            getattr(mod, "JSONRPCResultResponse", None) or mod.JSONRPCResponse,
        )


@pytest.mark.parametrize("revision", REVISIONS[:4])
def test_older_params_carry_meta_and_progress_token(revision: str) -> None:
    mod = module(revision)
    raw = {
        "method": "tools/call",
        "params": {
            "name": "echo",
            "arguments": {"x": [1, {"y": None}]},
            "_meta": {"progressToken": "p", "a.b/c": 1},
        },
    }
    value = round_trip(raw | envelope(mod.CallToolRequest), mod.CallToolRequest)
    assert value.params.meta.progress_token == "p"
    assert value.params.meta["a.b/c"] == 1
    cancel = {"method": "notifications/cancelled", "params": {"requestId": 1, "_meta": {"k": [1]}}}
    note = round_trip(cancel | envelope(mod.CancelledNotification), mod.CancelledNotification)
    assert note.params.meta == {"k": [1]}


def test_meta_keeps_arbitrary_content_and_types_declared_members() -> None:
    raw = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "t", "_meta": {**META_2026, "com.example/trace": {"id": "abc", "n": 1.5}}},
    }
    value = round_trip(raw, v2026.CallToolRequest)
    meta = value.params.meta
    assert isinstance(meta, v2026.RequestMetaObject)
    assert meta.protocol_version == "2026-07-28"
    assert isinstance(meta.client_capabilities, v2026.ClientCapabilities)
    assert meta["com.example/trace"] == {"id": "abc", "n": 1.5}
    with pytest.raises(msgspec.ValidationError, match=r"protocolVersion.*\$\.params\._meta"):
        bad = {
            **raw,
            "params": {"name": "t", "_meta": {**META_2026, "io.modelcontextprotocol/protocolVersion": 5}},
        }
        wire.decode(json.dumps(bad), v2026.CallToolRequest)
    with pytest.raises(msgspec.ValidationError, match="clientCapabilities"):
        wire.decode(json.dumps({**raw, "params": {"name": "t", "_meta": {}}}), v2026.CallToolRequest)


SERVER_INFO = "io.modelcontextprotocol/serverInfo"


@pytest.mark.parametrize(
    ("meta", "error"),
    [
        (5, "Expected `object`, got `number` - at `$._meta`"),
        (
            {SERVER_INFO: 1},
            "Expected `object`, got `int` (at `io.modelcontextprotocol/serverInfo`) - at `$._meta`",
        ),
        (
            {SERVER_INFO: {"name": "s"}},
            "Object missing required field `version` (at `io.modelcontextprotocol/serverInfo`)"
            " - at `$._meta`",
        ),
        (
            {SERVER_INFO: {"name": "s", "version": 1}},
            "Expected `str`, got `int` (at `io.modelcontextprotocol/serverInfo.version`) - at `$._meta`",
        ),
        (
            {SERVER_INFO: None},
            "Expected `object`, got `null` (at `io.modelcontextprotocol/serverInfo`) - at `$._meta`",
        ),
    ],
)
def test_result_meta_members_are_checked_where_its_reading_is_written_out(meta: Any, error: str) -> None:
    # The 2026 result `_meta` is read by generated code of its own (every result has one): the same
    # rules and the same errors as the general path, whether read from a peer or built to send.
    good = {
        "content": [],
        "resultType": "complete",
        "_meta": {SERVER_INFO: {"name": "s", "version": "1"}, "com.example/x": [1]},
    }
    value = round_trip(good, v2026.CallToolResult)
    assert isinstance(value.meta, v2026.ResultMetaObject)
    assert value.meta.server_info == v2026.Implementation(name="s", version="1")
    assert value.meta["com.example/x"] == [1]
    assert round_trip({**good, "_meta": {}}, v2026.CallToolResult).meta == {}
    bad = {"content": [], "_meta": meta}
    with pytest.raises(msgspec.ValidationError) as decoded:
        wire.decode(json.dumps(bad), v2026.CallToolResult)
    with pytest.raises(msgspec.ValidationError) as converted:
        wire.convert(bad, v2026.CallToolResult)
    assert str(decoded.value) == str(converted.value) == error


def test_open_bags_keep_everything() -> None:
    tool = {
        "name": "t",
        "inputSchema": {
            "type": "object",
            "properties": {"a": {"type": "number", "x-mcp-header": "A"}},
            "$defs": {},
        },
        "outputSchema": {"type": "object", "additionalProperties": False},
        "_meta": {"anything": [True, None]},
    }
    round_trip(tool, v2026.Tool)
    result = {"content": [], "structuredContent": {"deep": [{"x": 1.0}]}, "resultType": "complete"}
    round_trip(result, v2026.CallToolResult)
    caps = {"experimental": {"x": {"y": 1}}, "extensions": {"io.modelcontextprotocol/ui": {}}}
    round_trip(caps, v2026.ClientCapabilities)


def test_closed_objects_drop_undeclared_members() -> None:
    value = wire.decode(b'{"type":"text","text":"a","x-unknown":1}', v2026.TextContent)
    assert json.loads(wire.encode(value)) == {"type": "text", "text": "a"}


def test_tagged_unions_decode_natively() -> None:
    blocks = [
        {"type": "text", "text": "a"},
        {"type": "image", "data": "AA==", "mimeType": "image/png"},
        {"type": "resource_link", "uri": "file:///a", "name": "a"},
    ]
    value = round_trip({"content": blocks, "resultType": "complete"}, v2026.CallToolResult)
    assert [type(b).__name__ for b in value.content] == ["TextContent", "ImageContent", "ResourceLink"]
    # An unknown kind is read as sent (tests/test_result_unions.py), but a block must say its kind.
    with pytest.raises(msgspec.ValidationError, match=r"\$\.content\[0\]"):
        wire.decode(b'{"content":[{"text":"a"}],"resultType":"complete"}', v2026.CallToolResult)


@pytest.mark.parametrize("revision", REVISIONS)
def test_text_and_blob_contents_are_dispatched(revision: str) -> None:
    mod = module(revision)
    raw = {"contents": [{"uri": "file:///a", "text": "t"}, {"uri": "file:///b", "blob": "AA=="}]}
    if module(revision).STATELESS:
        raw |= {"resultType": "complete", "ttlMs": 0, "cacheScope": "public"}
    value = round_trip(raw, mod.ReadResourceResult)
    assert [type(c).__name__ for c in value.contents] == ["TextResourceContents", "BlobResourceContents"]
    with pytest.raises(msgspec.ValidationError, match=r"\$\.contents\[0\]"):
        wire.decode(json.dumps({**raw, "contents": [{"uri": 3, "text": "t"}]}), mod.ReadResourceResult)


def test_elicitation_params_without_mode_are_a_form() -> None:
    form = {
        "message": "Name?",
        "requestedSchema": {"type": "object", "properties": {"n": {"type": "string"}}},
    }
    params = round_trip(form, v2026.ElicitRequestParams)
    assert isinstance(params, v2026.ElicitRequestFormParams)
    url = round_trip(
        {"mode": "url", "message": "Go", "url": "https://example.com"},
        v2026.ElicitRequestParams,
    )
    assert isinstance(url, v2026.ElicitRequestURLParams)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"mode": "url", "message": "m"}, "Object missing required field `url`"),
        ({"mode": "url", "message": "m", "url": 1}, "Expected `str`, got `int` (at `url`)"),
        ({"mode": "form", "message": "m"}, "Object missing required field `requestedSchema`"),
        ({"mode": [1], "message": "m"}, "Expected `str`, got `array` (at `mode`)"),
        ({"mode": "x", "message": "m", "url": "u"}, "Invalid value 'x' (at `mode`)"),
        (
            {
                "message": "m",
                "requestedSchema": {"type": "object", "properties": {"a": {"type": "boolean", "default": 1}}},
            },
            "Expected `bool`, got `int` (at `default`) (at `requestedSchema.properties[...]`)",
        ),
    ],
)
def test_a_member_named_by_its_mode_is_read_outright_and_errors_name_the_fault(
    params: Any, error: str
) -> None:
    # `mode` ("url", "form" or absent) names one elicitation member, and `type` "boolean" one enum
    # schema: those are read without ranking the members; what does not fit is still ranked, so the
    # error is the one the closest member gives.
    with pytest.raises(msgspec.ValidationError) as decoded:
        wire.decode(json.dumps(params), v2026.ElicitRequestParams)
    with pytest.raises(msgspec.ValidationError) as converted:
        wire.convert(params, v2026.ElicitRequestParams)
    assert str(decoded.value) == str(converted.value) == error
    with pytest.raises(msgspec.ValidationError) as nested:
        wire.decode(json.dumps({"method": "elicitation/create", "params": params}), v2026.ElicitRequest)
    assert str(nested.value) == error + " - at `$.params`"


def test_enum_schema_family_is_dispatched_by_shape() -> None:
    cases = {
        "UntitledSingleSelectEnumSchema": {"type": "string", "enum": ["a", "b"]},
        "TitledSingleSelectEnumSchema": {"type": "string", "oneOf": [{"const": "a", "title": "A"}]},
        "UntitledMultiSelectEnumSchema": {"type": "array", "items": {"type": "string", "enum": ["a"]}},
        "TitledMultiSelectEnumSchema": {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}},
        "LegacyTitledEnumSchema": {"type": "string", "enum": ["a"], "enumNames": ["A"]},
        "StringSchema": {"type": "string", "minLength": 1},
        "NumberSchema": {"type": "integer", "minimum": 1},
        "BooleanSchema": {"type": "boolean", "default": True},
    }
    for name, raw in cases.items():
        value = round_trip(raw, v2026.PrimitiveSchemaDefinition)
        assert type(value).__name__ == name, (name, value)


def test_input_responses_are_dispatched() -> None:
    cases = {
        "ElicitResult": {"action": "accept", "content": {"n": "x", "k": 2, "m": ["a"]}},
        "ListRootsResult": {"roots": [{"uri": "file:///r"}]},
        "CreateMessageResult": {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"},
    }
    for name, raw in cases.items():
        assert type(round_trip(raw, v2026.InputResponse)).__name__ == name


@pytest.mark.parametrize("revision", REVISIONS)
def test_jsonrpc_envelopes_are_dispatched(revision: str) -> None:
    mod = module(revision)
    kinds = {
        "request": {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        "notification": {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "result": {"jsonrpc": "2.0", "id": 1, "result": empty_result(revision)},
        "error": {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no"}},
    }
    names = [type(round_trip(raw, mod.JSONRPCMessage)).__name__ for raw in kinds.values()]
    assert names[0] == "JSONRPCRequest" and names[1] == "JSONRPCNotification"
    assert names[2] in {"JSONRPCResponse", "JSONRPCResultResponse"}
    assert names[3] in {"JSONRPCError", "JSONRPCErrorResponse"}
    with pytest.raises(msgspec.ValidationError):
        wire.decode(b'{"jsonrpc":"2.0","id":1}', mod.JSONRPCMessage)


def test_batches_only_where_the_revision_has_them() -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    value = round_trip(batch, v2025_03.JSONRPCMessage)
    assert [type(v).__name__ for v in value] == ["JSONRPCRequest", "JSONRPCNotification"]
    for mod in (v2024, v2025_06, v2025, v2026):
        with pytest.raises(msgspec.ValidationError):
            wire.decode(json.dumps(batch), mod.JSONRPCMessage)


def test_results_resolve_by_result_type_absent_meaning_complete() -> None:
    results = v2026.TOOLS_CALL.result_type
    complete = wire.decode(b'{"content":[]}', results)
    assert isinstance(complete, v2026.CallToolResult) and complete.result_type == "complete"
    asked = wire.decode(
        b'{"resultType":"input_required","inputRequests":{"r1":{"method":"roots/list"}},"requestState":"s"}',
        results,
    )
    assert isinstance(asked, v2026.InputRequiredResult)
    assert isinstance(asked.input_requests["r1"], v2026.ListRootsRequest)
    assert (
        json.loads(wire.encode(v2026.InputRequiredResult(request_state="s")))["resultType"]
        == "input_required"
    )


def test_a_result_without_result_type_is_never_input_required() -> None:
    """Absent `resultType` means "complete": a malformed complete result is an error, not an
    InputRequiredResult that its defaults would let it decode as."""
    results = v2026.TOOLS_CALL.result_type
    for bad in (b"{}", b'{"content":5}', b'{"isError":true}'):
        with pytest.raises(msgspec.ValidationError, match="content"):
            wire.decode(bad, results)
        with pytest.raises(msgspec.ValidationError, match="content"):
            wire.convert(json.loads(bad), results)
    assert isinstance(wire.convert({"resultType": "input_required"}, results), v2026.InputRequiredResult)


def test_read_optional_cache_hints_are_never_invented() -> None:
    raw = {"contents": [], "resultType": "complete"}
    value = round_trip(raw, v2026.ReadResourceResult)
    assert value.ttl_ms is msgspec.UNSET


@pytest.mark.parametrize("revision", REVISIONS)
def test_method_tables_cover_every_request_and_notification(revision: str) -> None:
    mod = module(revision)
    for name, method in mod.REQUESTS.items():
        assert method.message_type.method == name
        assert method.result_types and all(isinstance(t, type) for t in method.result_types)
        assert method.handler.isidentifier()
        sender = "ClientStub" if "client_to_server" in method.directions else "ServerStub"
        if method.directions != ("input",):
            assert callable(getattr(getattr(mod, sender), method.handler))
    for name, note in mod.NOTIFICATIONS.items():
        assert note.message_type.method == name
    stateful = not mod.STATELESS
    assert ("initialize" in mod.REQUESTS) is stateful
    assert ("server/discover" in mod.REQUESTS) is not stateful
    assert mod.REQUESTS["ping"].directions == ("client_to_server", "server_to_client") if stateful else True
    if stateful:
        assert mod.REQUESTS["ping"].result_type is mod.EmptyResult or mod.REQUESTS["ping"].result_types == (
            mod.Result,
        )
        assert mod.REQUESTS["sampling/createMessage"].directions == ("server_to_client",)
    else:
        assert mod.REQUESTS["sampling/createMessage"].directions == ("input",)
        assert mod.InputRequiredResult in mod.REQUESTS["tools/call"].result_types
        assert mod.InputRequiredResult not in mod.REQUESTS["tools/list"].result_types


def test_task_augmented_requests_name_their_task_result() -> None:
    assert v2025.TOOLS_CALL.task_result_type is v2025.CreateTaskResult
    assert v2025.TOOLS_LIST.task_result_type is None


@pytest.mark.parametrize("revision", REVISIONS)
def test_error_codes(revision: str) -> None:
    mod = module(revision)
    assert mod.PARSE_ERROR == -32700 and mod.INVALID_REQUEST == -32600 and mod.METHOD_NOT_FOUND == -32601
    assert mod.INVALID_PARAMS == -32602 and mod.INTERNAL_ERROR == -32603
    assert mod.PROTOCOL_VERSION == revision and mod.JSONRPC_VERSION == "2.0"
    if mod.STATELESS:
        assert (
            mod.HEADER_MISMATCH,
            mod.MISSING_REQUIRED_CLIENT_CAPABILITY,
            mod.UNSUPPORTED_PROTOCOL_VERSION,
        ) == (-32020, -32021, -32022)


def test_latest_is_the_newest_revision() -> None:
    from mcpbind.generated import LATEST, latest
    from mcpbind.generated import REVISIONS as MODULES

    newest = published_pins()[-1].name
    assert LATEST == newest and latest.PROTOCOL_VERSION == newest
    assert latest.CallToolRequest is module(newest).CallToolRequest
    draft = next(p for p in load_pins() if p.name == "draft")
    assert MODULES["draft"] == MODULES[draft.alias_of or "draft"]


_CALL_META_CASES: list[Any] = [
    {},
    {"progressToken": 1},
    {"progressToken": [1]},
    {"com.example/anything": {"deep": [1, 2]}},
    {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    },
    {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {"sampling": {}, "elicitation": {"form": {}}},
    },
    {"io.modelcontextprotocol/protocolVersion": 7, "io.modelcontextprotocol/clientCapabilities": {}},
    {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": 1,
    },
    {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "c"},
        "io.modelcontextprotocol/clientCapabilities": {},
    },
    {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/logLevel": "loud",
        "io.modelcontextprotocol/clientCapabilities": {},
    },
    [],
    "meta",
]


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("meta", _CALL_META_CASES)
def test_members_only_accepts_exactly_what_the_full_type_accepts(revision: str, meta: Any) -> None:
    """The lean form of a params type (open objects decoded into their declared members) validates by
    the same rules as the full one: a message is accepted by both or by neither."""
    params_type = module(revision).CallToolRequestParams
    body = msgspec.json.encode({"name": "echo", "arguments": {"text": "hi"}, "_meta": meta})
    outcomes = []
    for tp in (params_type, wire.members_only(params_type)):
        try:
            decoded = wire.decode(body, tp)
        except msgspec.ValidationError:
            outcomes.append(None)
        else:
            outcomes.append((decoded.name, decoded.arguments))
    assert outcomes[0] == outcomes[1]
    assert wire.members_only(params_type) is wire.members_only(params_type)  # built once


def test_members_only_keeps_a_tagged_structs_tag() -> None:
    """A tagged Struct's lean form is tagged alike: it reads and writes its tag, refuses another, and
    stays a member of a tagged union; unknown members are refused where the full type refuses them."""
    meta_type = module("2025-11-25").RequestMetaObject
    assert issubclass(meta_type, wire.OpenObject)
    call = msgspec.defstruct(
        "Call",
        [("name", str), ("meta", meta_type | None, None)],
        tag_field="kind",
        tag="call",
        forbid_unknown_fields=True,
        rename={"meta": "_meta"},
    )
    other = msgspec.defstruct("Other", [("name", str)], tag_field="kind", tag="other")
    lean = wire.members_only(call)
    assert (lean.__struct_config__.tag_field, lean.__struct_config__.tag) == ("kind", "call")
    good = b'{"kind":"call","name":"x","_meta":{"progressToken":1,"extra":2}}'
    assert wire.decode(good, lean).name == "x"
    assert msgspec.json.decode(msgspec.json.encode(wire.decode(good, lean)))["kind"] == "call"
    for bad in (b'{"kind":"other","name":"x"}', b'{"kind":"call","name":"x","more":1}'):
        for tp in (call, lean):
            with pytest.raises(msgspec.ValidationError):
                wire.decode(bad, tp)
    either = msgspec.json.Decoder(lean | other)
    assert type(either.decode(b'{"kind":"call","name":"a"}')) is lean
    assert type(either.decode(b'{"kind":"other","name":"b"}')) is other


def test_a_results_meta_reader_as_its_decoders_hook_hands_other_types_on() -> None:
    # A result whose `_meta` reader is its decoder's hook (one Python call less per message) still
    # reads every other value the hook meets as its own type: here an embedded resource's contents,
    # a dispatched union, text or blob by their keys.
    assert wire.hook_for(v2026.CallToolResult) is _reader(v2026.ResultMetaObject)
    body = {
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}, "x.y/z": [1]},
        "content": [
            {"type": "resource", "resource": {"uri": "file:///a", "blob": "AAAA"}},
            {"type": "resource", "resource": {"uri": "file:///b", "text": "b"}},
        ],
        "resultType": "complete",
    }
    got = wire.decode(json.dumps(body), v2026.CallToolResult)
    assert type(got.meta) is v2026.ResultMetaObject
    assert got.meta["x.y/z"] == [1]
    assert type(got.meta.server_info) is v2026.Implementation
    blocks = [type(c.resource) for c in got.content if isinstance(c, v2026.EmbeddedResource)]
    assert blocks == [v2026.BlobResourceContents, v2026.TextResourceContents]
    assert same_json(json.loads(wire.encode(got)), body)
    bad = dict(body, content=[{"type": "resource", "resource": {"uri": 1, "text": "b"}}])
    with pytest.raises(msgspec.ValidationError):
        wire.decode(json.dumps(bad), v2026.CallToolResult)


def _reader(cls: type[wire.OpenObject]) -> Any:
    return vars(cls)["_from_wire"].__func__


def test_each_decoder_takes_the_hook_its_type_was_generated_with() -> None:
    # Chosen by the generator (`_hook_reader_`), read with no walk of the type: the open object a
    # message holds most surely and most often, through Struct members.
    assert wire.hook_for(v2026.CallToolRequest) is _reader(v2026.RequestMetaObject)  # params._meta
    assert wire.hook_for(v2026.CallToolRequestParams) is _reader(v2026.RequestMetaObject)
    # Every item of a required array holds one (each tool's `inputSchema`): met 50 times, not once.
    assert wire.hook_for(v2026.ListToolsResult) is _reader(v2026.ToolInputSchema)
    assert wire.hook_for(v2025.InitializeRequestParams) is _reader(v2025.RequestMetaObject)
    # None met through Struct members, or not a Struct: the general hook.
    assert wire.hook_for(v2026.TextContent) is wire.dec_hook
    assert wire.hook_for(v2026.PrimitiveSchemaDefinition) is wire.dec_hook
    assert wire.hook_for(list[v2026.Tool]) is wire.dec_hook
    # A subclass of a generated Struct (which may hold other members) does not inherit the choice.
    sub = msgspec.defstruct("Sub", [("extra", v2026.ElicitRequestParams)], bases=(v2026.CallToolResult,))
    assert wire.hook_for(sub) is wire.dec_hook
    # `wire.decoder`'s decoders take it.
    got = wire.decode(
        json.dumps({"name": "t", "_meta": META_2026, "arguments": {"a": 1}}), v2026.CallToolRequestParams
    )
    assert type(got.meta) is v2026.RequestMetaObject
    assert type(got.meta.client_capabilities) is v2026.ClientCapabilities


def test_a_reader_as_the_hook_reads_other_types_with_their_own_readers() -> None:
    # `ListToolsResult` decodes with `ToolInputSchema`'s reader as its hook: the result's `_meta` and
    # each tool's `annotations`... reach it too, and are read by their own readers, even one that the
    # table of readers does not hold yet (then through `dec_hook`, which adds it).
    body = {
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}, "x/y": 1},
        "tools": [
            {"name": "a", "inputSchema": {"type": "object", "x-extra": True}, "_meta": {"k": [1]}},
            {"name": "b", "inputSchema": {}},
        ],
        "resultType": "complete",
    }
    wire.hook_readers.pop(v2026.ResultMetaObject, None)
    for _ in range(2):  # (the first time through `dec_hook`, then from the table)
        got = wire.decode(json.dumps(body), v2026.ListToolsResult)
        assert type(got.meta) is v2026.ResultMetaObject
        assert type(got.meta.server_info) is v2026.Implementation
        assert [type(t.input_schema) for t in got.tools] == [v2026.ToolInputSchema] * 2
        assert got.tools[1].input_schema == {"type": "object"}  # its default filled in
        assert got.tools[0].meta == {"k": [1]}
        assert same_json(
            json.loads(wire.encode(got)),
            dict(body, tools=[body["tools"][0], {**body["tools"][1], "inputSchema": {"type": "object"}}]),
        )
        assert v2026.ResultMetaObject in wire.hook_readers
    bad = dict(body, _meta={"io.modelcontextprotocol/serverInfo": {"name": 1}})
    with pytest.raises(msgspec.ValidationError, match="serverInfo"):
        wire.decode(json.dumps(bad), v2026.ListToolsResult)
    bad = dict(body, tools=[{"name": "a", "inputSchema": {"type": "array"}}])
    with pytest.raises(msgspec.ValidationError, match="inputSchema"):
        wire.decode(json.dumps(bad), v2026.ListToolsResult)


class _Stamped(v2026.ResultMetaObject):
    __slots__ = ()


class _Holder(msgspec.Struct):
    meta: _Stamped


def test_a_subclass_of_an_open_object_reads_as_itself() -> None:
    # The written-out reader hands a type that is not its own to the general hook, but a subclass's
    # values it reads itself, as that subclass (no loop back through the hook).
    got = wire.decode(
        b'{"meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}}}', _Holder
    )
    assert type(got.meta) is _Stamped
    assert type(got.meta.server_info) is v2026.Implementation
