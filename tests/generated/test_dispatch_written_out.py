"""Every dispatched union whose choice the generator writes out reads exactly as the general path does.

Where the value of one constant key and the keys present leave a single candidate member, the generator
writes `_from_wire` out for the union (`mcpbind.codegen.dispatch`) and falls back to `UnionDispatch`'s
general path (`wire.read_union`) for anything else. This holds every such union of every revision to
that general path on systematic variants: a seed object for each member, each key removed, each key any
member declares set to a value of every JSON kind, to every constant any member allows and to a valid
value of its kind; non-objects; liberal and strict. The outcome is the same value of the same class, or
the same error. It also checks that the written-out path does its work: for each member it names, some
variant is read without the general path.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest

from mcpbind.generated import REVISIONS
from mcpbind.wire import UnionDispatch, convert, decode, decoder, read_union

from . import test_codec_golden as golden

KINDS: tuple[Any, ...] = (None, True, 7, 2.5, "x", [], {}, ["x"], {"x": 1})

VALID: dict[str, tuple[Any, ...]] = {
    "oneOf": ([{"const": "a", "title": "A"}],),
    "anyOf": ([{"const": "a", "title": "A"}],),
    "items": ({"type": "string", "enum": ["a", "b"]}, {"anyOf": [{"const": "a", "title": "A"}]}),
    "enum": (["a", "b"],),
    "enumNames": (["A", "B"],),
    "default": (["a"], "a", 3, False),
    "requestedSchema": (
        {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}}},
        {"type": "object", "properties": {"a": {"type": "string", "enum": ["x"], "enumNames": ["X"]}}},
    ),
    "error": ({"code": -32600, "message": "bad"},),
    "params": ({"_meta": {"progressToken": 1}, "x": 1},),
    "result": ({"_meta": {}, "x": 1},),
    "id": ("req-1", 1),
}
"""Valid values for keys whose members need more than a plain JSON kind (nested shapes)."""


def _written_out() -> Iterator[tuple[Any, type[UnionDispatch]]]:
    """(module, union) for each union of each revision with its choice written out."""
    for revision, module_name in REVISIONS.items():
        if revision not in module_name.replace("_", "-"):
            continue  # an alias (`draft`): its target is read under its own name
        module = importlib.import_module(module_name)
        for name in dir(module):
            value = getattr(module, name)
            if (
                isinstance(value, type)
                and issubclass(value, UnionDispatch)
                and value.__module__ == module.__name__
                and isinstance(vars(value).get("_from_wire"), classmethod)
            ):
                yield module, value


CASES = list(_written_out())


def _pool(union: type[UnionDispatch], key: str) -> list[Any]:
    values: list[Any] = [*KINDS, *VALID.get(key, ()), "not-a-constant"]
    for member in union._union_:
        for k, allowed, _ in member.consts:
            if k == key:
                values += allowed
    return values


def _seed(union: type[UnionDispatch], index: int) -> dict[str, Any]:
    member = union._union_[index]
    out: dict[str, Any] = {}
    consts = {k: allowed for k, allowed, _ in member.consts}
    for key in sorted(member.required | set(consts)):
        if key in consts:
            out[key] = consts[key][0]
        else:
            out[key] = copy.deepcopy(VALID.get(key, ("x",))[0])
    return out


def _variants(union: type[UnionDispatch]) -> Iterator[Any]:
    yield from KINDS
    declared = sorted({k for m in union._union_ for k in m.declared})
    for index in range(len(union._union_)):
        seed = _seed(union, index)
        yield seed
        for key in seed:
            yield {k: v for k, v in seed.items() if k != key}
        for key in declared:
            for value in _pool(union, key):
                yield {**seed, key: copy.deepcopy(value)}
        yield {**seed, "x-undeclared": {"kept": [1]}}


def _outcome(read: Any, *args: Any) -> tuple[Any, ...]:
    try:
        value = read(*copy.deepcopy(args))
    except (TypeError, ValueError) as exc:
        return ("error", type(exc), str(exc))
    return ("value", type(value), value)


@pytest.mark.parametrize(("module", "union"), CASES, ids=[f"{m.REVISION}-{u.__name__}" for m, u in CASES])
def test_written_out_dispatch_reads_as_the_general_path(
    module: Any, union: type[UnionDispatch], monkeypatch: pytest.MonkeyPatch
) -> None:
    fell_back: list[bool] = []

    def general(cls: type[UnionDispatch], obj: object, liberal: bool = True) -> Any:
        fell_back.append(True)
        return read_union(cls, obj, liberal)

    # The written-out `_from_wire` reads the general path from its module's globals.
    monkeypatch.setattr(module, "read_union", general)
    direct: set[type] = set()
    compared = 0
    for obj in _variants(union):
        for liberal in (True, False):
            fell_back.clear()
            fast = _outcome(union._from_wire, obj, liberal)
            if not fell_back and fast[0] == "value":
                direct.add(fast[1])
            slow = _outcome(read_union, union, obj, liberal)
            assert fast == slow, (union.__name__, obj, liberal)
            compared += 1
    assert compared > 50
    # Every member the written-out path names is read by it, for some variant, with no fallback.
    named = {m.type for m in union._union_ if m.type.__name__ in _globals_read(union)}
    assert named and named <= direct, (union.__name__, named - direct)


def _globals_read(union: type[UnionDispatch]) -> tuple[str, ...]:
    """The global names the written-out `_from_wire` reads (the members it converts into, ...)."""
    return cast("tuple[str, ...]", vars(union)["_from_wire"].__func__.__code__.co_names)


def test_written_out_unions_exist_in_every_revision_with_elicitation() -> None:
    names = {(m.REVISION, u.__name__) for m, u in CASES}
    assert ("2026-07-28", "PrimitiveSchemaDefinition") in names
    assert ("2026-07-28", "ElicitRequestParams") in names
    assert ("2025-11-25", "JSONRPCMessage") in names


@pytest.mark.parametrize("revision", ["2024-11-05", "2025-11-25", "2026-07-28"])
def test_a_shape_read_as_a_later_candidate_is_not_remembered_for_the_next_object(revision: str) -> None:
    # `{"id": null, "method": ...}` is no request (the id is refused) but reads as a notification, the
    # next candidate. The general path remembers its choice per shape: it must not remember that one,
    # or every request with those keys after it would read as a notification too.
    module = importlib.import_module(REVISIONS[revision])
    message = module.JSONRPCMessage
    odd = decode(b'{"id":null,"jsonrpc":"2.0","method":"x"}', message)
    assert type(odd) is module.JSONRPCNotification
    for _ in range(2):
        request = decode(b'{"id":"2.0","jsonrpc":"2.0","method":"ping"}', message)
        assert type(request) is module.JSONRPCRequest
        assert read_union(
            message, {"jsonrpc": "2.0", "id": 7, "method": "ping"}, True
        ) == module.JSONRPCRequest(id=7, method="ping")


def test_the_codec_record_holds_read_in_reverse_order() -> None:
    # What a message reads as must not depend on the messages read before it (the general path's
    # memory of shapes): the golden record, read last case first, is the record.
    expected = json.loads(golden.GOLDEN.read_text())
    for case, tp, data, doc in reversed(list(golden.cases())):
        got = {
            "decode": golden.outcome(lambda: decoder(tp).decode(data)),  # noqa: B023 (called at once)
            "convert": golden.outcome(lambda: convert(doc, tp)),  # noqa: B023
        }
        assert got == expected[case], case


def test_members_alike_at_the_top_read_by_what_lies_deeper_in_any_order() -> None:
    # The multi-select pair share every top-level key; the single-select family shares `type`:
    # which one an object is lies deeper, so each read goes down the same ranking, whatever came before.
    module = importlib.import_module(REVISIONS["2026-07-28"])
    union = module.PrimitiveSchemaDefinition
    titled = {"type": "array", "title": "T", "items": {"anyOf": [{"const": "a", "title": "A"}]}}
    untitled = {"type": "array", "title": "T", "items": {"type": "string", "enum": ["a"]}}
    bad_enum = {"type": "string", "title": "T", "enum": [1]}
    good_enum = {"type": "string", "title": "T", "enum": ["a"]}
    for order in ((titled, untitled, bad_enum, good_enum), (good_enum, bad_enum, untitled, titled)):
        for _ in range(2):
            read = {id(o): union._from_wire(copy.deepcopy(o)) for o in order}
            assert type(read[id(titled)]) is module.TitledMultiSelectEnumSchema
            assert type(read[id(untitled)]) is module.UntitledMultiSelectEnumSchema
            assert type(read[id(good_enum)]) is module.UntitledSingleSelectEnumSchema
            assert read[id(good_enum)].enum == ["a"]
            # `enum: [1]` fits no enum schema: a plain string schema, as the ranking has it.
            assert type(read[id(bad_enum)]) is module.StringSchema
