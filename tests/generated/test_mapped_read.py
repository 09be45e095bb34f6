"""The elicitation form's properties read in one loop by the written-out `ElicitRequestParams` reader.

Where every value of a map in a union's member is itself a dispatched union (the form's
`requestedSchema.properties`), the generator has the union's written-out reader convert the member
with the map's values as decoded (`codegen.render.mapped_read`), read each with the inner union's
reader and build the member from them: no decode hook call and no instance check per property. The
outcome must be the general conversion's (the same value, or the same error), whatever the form holds,
and the object read is left as it was.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.shapes import DispatchMeta, dec_hook

from ..conftest import module

PROPERTIES: list[Any] = [
    {"type": "string", "title": "T", "maxLength": 3},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "nope"},
    {"type": "integer", "minimum": 0, "maximum": 9, "default": 1},
    {"type": "number", "default": "x"},
    {"type": "boolean", "default": False},
    {"type": "string", "enum": ["a", "b"], "default": "a"},
    {"type": "string", "oneOf": [{"const": "a", "title": "A"}]},
    {"type": "array", "items": {"type": "string", "enum": ["a"]}},
    {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}},
    {"type": "string", "enum": ["a"], "enumNames": ["A"]},
    {"type": "object"},
    {"type": "unknown"},
    {},
    [],
    "string",
    None,
]


def _forms() -> list[Any]:
    forms: list[Any] = []
    for prop in PROPERTIES:
        forms.append({"properties": {"p": prop}})
        forms.append({"properties": {"a": {"type": "boolean"}, "p": prop}, "required": ["a"]})
    forms += [
        {"properties": {}},
        {"properties": {"a": {"type": "boolean"}}, "$schema": "https://json-schema.org/draft/2020-12/schema"},
        {"properties": {"a": {"type": "boolean"}}, "required": "a"},
        {"properties": []},
        {"properties": None},
        {},
    ]
    return [{"type": "object", **form} for form in forms] + [{"type": "array", "properties": {}}, []]


def _params(form: Any) -> list[Any]:
    return [
        {"mode": "form", "message": "m", "requestedSchema": form},
        {"message": "m", "requestedSchema": form},
        {"mode": "form", "message": 1, "requestedSchema": form},
        {"message": "m", "requestedSchema": form, "x-extra": [1]},
    ]


def _outcome(read: Any) -> tuple[Any, ...]:
    try:
        value = read()
    except (TypeError, ValueError) as exc:
        return ("error", type(exc), str(exc))
    return ("value", type(value), value)


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_the_form_reads_as_its_general_conversion(revision: str) -> None:
    mod = module(revision)
    union, member = mod.ElicitRequestParams, mod.ElicitRequestFormParams
    compared = values = 0
    for form in _forms():
        for params in _params(form):
            before = copy.deepcopy(params)
            mine = _outcome(lambda: union._from_wire(params))  # noqa: B023
            assert params == before  # the object read is left as it was
            general = _outcome(lambda: msgspec.convert(copy.deepcopy(params), member, dec_hook=dec_hook))  # noqa: B023
            if general[0] == "value":
                assert mine == general, params
                values += 1
            else:  # the union says what is wrong its own way: as its general path says it
                assert mine == _outcome(lambda: wire.read_union(union, copy.deepcopy(params), True)), params  # noqa: B023
            compared += 1
    assert compared > 100 and values > 30


def test_a_form_read_from_a_peer_checks_no_property_through_the_union_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mod = module("2026-07-28")
    checked: list[type] = []
    original = DispatchMeta.__instancecheck__

    def counting(cls: type, obj: object) -> bool:
        checked.append(cls)
        return original(cls, obj)

    monkeypatch.setattr(DispatchMeta, "__instancecheck__", counting)
    body = {
        "resultType": "input_required",
        "inputRequests": {
            "e": {
                "method": "elicitation/create",
                "params": {
                    "mode": "form",
                    "message": "m",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "a": {"type": "boolean"},
                            "b": {"type": "string", "enum": ["x"]},
                            "c": {"type": "number"},
                        },
                    },
                },
            }
        },
    }
    got = wire.decode(json.dumps(body), mod.InputRequiredResult)
    properties = got.input_requests["e"].params.requested_schema.properties
    assert [type(p) for p in properties.values()] == [
        mod.BooleanSchema,
        mod.UntitledSingleSelectEnumSchema,
        mod.NumberSchema,
    ]
    assert mod.PrimitiveSchemaDefinition not in checked
    # Built to send (strictly), the general conversion runs: each property through the hook.
    checked.clear()
    wire.convert(body["inputRequests"]["e"]["params"], mod.ElicitRequestParams)
    assert mod.PrimitiveSchemaDefinition in checked


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_a_property_the_reader_would_read_at_once_is_read_in_the_loop(
    revision: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The inner union's written-out choice is made in the loop itself (no call of its reader per
    # property); anything that choice does not settle, or that does not convert, is the reader's.
    mod = module(revision)
    union = mod.PrimitiveSchemaDefinition
    reader = union._from_wire
    called: list[Any] = []

    def counting(cls: Any, obj: Any, liberal: bool = True) -> Any:
        called.append(obj)
        return reader(obj, liberal)

    monkeypatch.setattr(union, "_from_wire", classmethod(counting))
    settled = [
        {"type": "string", "title": "T", "maxLength": 3},
        {"type": "string", "format": "email"},
        {"type": "integer", "minimum": 0},
        {"type": "boolean", "default": False},
        {"type": "string", "enum": ["a", "b"], "default": "a"},
        {"type": "string", "oneOf": [{"const": "a", "title": "A"}]},
        {"type": "array", "items": {"type": "string", "enum": ["a"]}},
        {"type": "string", "enum": ["a"], "enumNames": ["A"]},  # the legacy member: more keys present
    ]
    unsettled = [
        {"type": "string", "format": "nope"},  # no member: the reader says what is wrong
        {"type": "string", "enum": ["a"], "enumNames": ["A"], "format": "date"},  # the ranking decides
        {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}},  # does not convert at once
        {"type": "integer", "minimum": "x"},
    ]
    for prop in settled + unsettled:
        params = {
            "mode": "form",
            "message": "m",
            "requestedSchema": {"type": "object", "properties": {"p": prop}},
        }
        called.clear()
        mine = _outcome(lambda: mod.ElicitRequestParams._from_wire(params))  # noqa: B023
        form = mod.ElicitRequestFormParams
        general = _outcome(lambda: msgspec.convert(copy.deepcopy(params), form, dec_hook=dec_hook))  # noqa: B023
        if general[0] == "value":
            assert mine == general, prop
            got = mine[2].requested_schema.properties["p"]
            assert type(got) is type(reader(copy.deepcopy(prop))), prop
        # (One that does not read is read again by the general conversion, through the hook.)
        assert called[:1] == ([] if prop in settled else [prop]), prop
