"""The one-pass decode the generator writes for the overrides' `[twin]` messages (`codegen.twin`) reads
exactly as the general decoder does: the same value (class and members), encoding and error, on the
payload variants, hostile forms, the codec golden test's one-change variants and the official examples."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.generated import v2026_07_28 as g

ROOT = Path(__file__).resolve().parents[2]


def _outcome(dec: Any, data: bytes) -> tuple[Any, ...]:
    try:
        value = dec(data)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    return ("value", type(value), value, wire.encode(value), repr(value))


def _cases() -> list[tuple[str, bytes]]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import codec_twin
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return codec_twin.hostile()


def test_twin_is_the_decoder_of_input_required_result() -> None:
    dec: Any = wire.decoder(g.InputRequiredResult)
    assert dec.decode is not dec.general


def test_twin_reads_as_the_general_decoder() -> None:
    dec: Any = wire.decoder(g.InputRequiredResult)
    general = dec.general
    cases = _cases()
    assert len(cases) > 1500
    differ = [label for label, data in cases if _outcome(dec.decode, data) != _outcome(general, data)]
    assert differ == []


def test_twin_values_are_public_classes() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import codec_twin
    finally:
        sys.path.remove(str(ROOT / "bench"))
    for variant in codec_twin.VARIANTS:
        value = wire.decode(codec_twin.payload(variant), g.InputRequiredResult)
        assert type(value) is g.InputRequiredResult
        assert type(value.meta) is g.ResultMetaObject
        for request in value.input_requests.values():
            if isinstance(request, g.ElicitRequest):
                assert type(request) is g.ElicitRequest
                assert type(request.params) in (g.ElicitRequestFormParams, g.ElicitRequestURLParams)


def _examples() -> list[Path]:
    mirror = os.environ.get("MCPBIND_SCHEMA_MIRROR")
    if not mirror:
        return []
    return sorted((Path(mirror) / "2026-07-28" / "examples").glob("*/*.json"))


@pytest.mark.skipif(not _examples(), reason="MCPBIND_SCHEMA_MIRROR has no 2026-07-28 examples")
def test_official_examples_round_trip_through_the_twin() -> None:
    """Every official example, as the `inputRequests` member or `params` it fits, read by the twin as
    by the general decoder (value or error), and re-encoded to the same JSON where it reads."""
    dec: Any = wire.decoder(g.InputRequiredResult)
    general = dec.general
    examples = _examples()
    assert len(examples) >= 129
    for path in examples:
        doc = json.loads(path.read_bytes())
        wrapped = [path.read_bytes()]
        wrapped.append(json.dumps({"inputRequests": {"a": doc}}).encode())
        wrapped.append(
            json.dumps({"inputRequests": {"a": {"method": "elicitation/create", "params": doc}}}).encode()
        )
        for data in wrapped:
            assert _outcome(dec.decode, data) == _outcome(general, data), path.name
        if path.parent.name == "InputRequiredResult":
            value = dec.decode(path.read_bytes())
            assert msgspec.json.decode(wire.encode(value)) == {"resultType": "input_required", **doc}


def test_the_generator_refuses_what_it_does_not_cover() -> None:
    """A `[twin]` entry naming a message or a union the one-pass decode cannot read is an error at
    generation, not a decode that differs."""
    from mcpbind.codegen.cli import build_all
    from mcpbind.codegen.render import dispatch_plans
    from mcpbind.codegen.twin import TwinError, render_twins

    module = next(m for m in build_all() if m.revision == "2026-07-28")
    plans = dispatch_plans(module.definitions)
    with pytest.raises(TwinError):
        render_twins(["ResultMetaObject"], [], module.definitions, plans)  # an open object
    with pytest.raises(TwinError):
        del plans["PrimitiveSchemaDefinition"]  # no written-out path to follow
        unions = ["ElicitRequestParams", "PrimitiveSchemaDefinition"]
        render_twins(["InputRequiredResult"], unions, module.definitions, plans)


def test_a_message_with_no_named_union_under_it_is_still_made_public() -> None:
    """A `[twin]` message whose only difference from its public class is an open object read as a map
    (`_meta`): the rendered decode makes that object and gives the message its public class, reading
    as the general decoder does."""
    from mcpbind.codegen.cli import build_all
    from mcpbind.codegen.render import dispatch_plans
    from mcpbind.codegen.twin import render_twins

    module = next(m for m in build_all() if m.revision == "2026-07-28")
    source = render_twins(["CallToolResult"], [], module.definitions, dispatch_plans(module.definitions))
    for name in ("CallToolResult", "ResultMetaObject", "Implementation"):
        getattr(g, name)
    namespace = dict(vars(g))
    exec(compile(source, "<twin>", "exec"), namespace)
    general: Any = wire.decoder(g.CallToolResult).general
    decode = namespace["_twin_CallToolResult"](general)
    text = {"type": "text", "text": "hi"}
    server = {"name": "s", "version": "1"}
    cases: list[Any] = [
        {"content": [text]},
        {"_meta": {"io.modelcontextprotocol/serverInfo": server}, "content": [text]},
        {"_meta": {"io.modelcontextprotocol/serverInfo": server, "com.example/x": [1]}, "content": [text]},
        {"_meta": {"com.example/x": None}, "content": [text], "isError": True},
        {"_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s"}}, "content": [text]},
        {"_meta": {"io.modelcontextprotocol/serverInfo": 3}, "content": [text]},
        {"_meta": [], "content": [text]},
        {"_meta": {}, "content": [{"type": "later_kind", "x": 1}]},
        {"content": "no"},
    ]
    for case in cases:
        data = json.dumps(case).encode()
        assert _outcome(decode, data) == _outcome(general, data), case
    value = decode(json.dumps(cases[2]).encode())
    assert type(value) is g.CallToolResult
    assert type(value.meta) is g.ResultMetaObject
    assert type(value.meta.server_info) is g.Implementation
