"""Every open object whose checks the generator writes out reads exactly as the general path does.

The generator writes `_from_wire` out for open objects whose declared members all take a shallow check
(`ToolInputSchema`, task records, ...): the checks of `OpenObject._from_wire`'s table-driven path, as
code. The golden test (`test_codec_golden.py`) holds the benchmark's messages to a record; this holds
every such class of every revision to the general path it stands for, on systematic variants of a valid
object: each member removed, each member given a value of every JSON kind, an undeclared member added.
The outcome is the same value of the same class, or the same error. The same holds for the open
objects whose `_from_wire` is written out around `msgspec.convert` (the `_meta` objects of 2026-07-28
with Struct members), on a valid object built from their declared members' types.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
import pytest
from msgspec import UnsetType

from mcpbind.generated import REVISIONS
from mcpbind.wire import OpenObject

KINDS: tuple[Any, ...] = (None, True, 7, 2.5, "x", [], {}, [1], {"x": 1})

_SAMPLES: dict[type, Any] = {
    str: "s",
    int: 3,
    float: 1.5,
    bool: False,
    dict: {"k": 1},
    list: [1],
    type(None): None,
}


def _written_out() -> Iterator[tuple[str, type[OpenObject]]]:
    """(revision, class) for each open object of each revision with its shallow checks written out."""
    for revision, module_name in REVISIONS.items():
        if revision not in module_name.replace("_", "-"):
            continue  # an alias (`draft`): its target is read under its own name
        module = importlib.import_module(module_name)
        for name in dir(module):
            value = getattr(module, name)
            if (
                isinstance(value, type)
                and issubclass(value, OpenObject)
                and value._simple_ is not None
                and value.__dict__.get("_from_wire") is not None
            ):
                yield revision, value


def _valid(cls: type[OpenObject]) -> dict[str, Any]:
    """An object every declared member of which is present and valid."""
    simple = cls._simple_ or {}
    out: dict[str, Any] = {}
    for key, (types, allowed) in simple.items():
        if allowed is not None:
            out[key] = allowed[0]
        elif types is None:
            out[key] = {"any": ["thing"]}
        else:
            out[key] = copy.deepcopy(_SAMPLES[types[0]])
    return out


def _variants(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield doc
    yield {}
    for key in doc:
        yield {k: v for k, v in doc.items() if k != key}
        for kind in KINDS:
            yield {**doc, key: copy.deepcopy(kind)}
    yield {**doc, "x-undeclared": {"kept": [1, "two"]}}


def _outcome(read: Any) -> tuple[Any, ...]:
    try:
        value = read()
    except (TypeError, ValueError) as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", type(value), dict(value))


CLASSES = list(_written_out())


def test_the_generator_writes_out_some_checks() -> None:
    names = {cls.__name__ for _, cls in CLASSES}
    assert "ToolInputSchema" in names, sorted(names)


@pytest.mark.parametrize(("revision", "cls"), CLASSES, ids=[f"{r}:{c.__name__}" for r, c in CLASSES])
def test_written_out_checks_read_as_the_general_path(revision: str, cls: type[OpenObject]) -> None:
    general = OpenObject.__dict__["_from_wire"].__func__
    cases = [*_variants(_valid(cls)), None, [], "x", 7]
    accepted = 0
    for doc in cases:
        for liberal in (True, False):
            mine = _outcome(lambda: cls._from_wire(copy.deepcopy(doc), liberal))  # noqa: B023
            theirs = _outcome(lambda: general(cls, copy.deepcopy(doc), liberal))  # noqa: B023
            assert mine == theirs, (revision, cls.__name__, doc, liberal)
            accepted += mine[0] == "ok"
    assert accepted, "no variant was accepted: the cases hold the checks to nothing"


def _converted_written_out() -> Iterator[tuple[str, type[OpenObject]]]:
    """(revision, class) for each open object whose `_from_wire` is written out around conversions
    (`msgspec.convert` of the whole object or of each declared Struct member: every `_meta` of
    2026-07-28 that declares one)."""
    for revision, module_name in REVISIONS.items():
        if revision not in module_name.replace("_", "-"):
            continue
        module = importlib.import_module(module_name)
        for name in dir(module):
            value = getattr(module, name)
            if (
                isinstance(value, type)
                and issubclass(value, OpenObject)
                and "_fields_" in value.__dict__
                and value._simple_ is None
                and value.__dict__.get("_from_wire") is not None
            ):
                yield revision, value


def _sample(tp: Any) -> Any:
    """A small valid JSON value of a declared member's type (required members only, first choices)."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return {"any": ["thing"]}
    if tp in _SAMPLES:
        return copy.deepcopy(_SAMPLES[tp])
    if origin is Literal:
        return args[0]
    if origin is Annotated:
        return _sample(args[0])
    if origin is Union or origin is UnionType:
        return _sample(next(a for a in args if a is not UnsetType))
    if tp is dict or origin is dict:
        return {}
    if tp is list or origin is list:
        return []
    assert isinstance(tp, type) and issubclass(tp, msgspec.Struct), tp
    doc = {f.encode_name: _sample(f.type) for f in msgspec.structs.fields(tp) if f.required}
    config = tp.__struct_config__
    if config.tag_field is not None:
        doc[config.tag_field] = config.tag
    return doc


CONVERTED = list(_converted_written_out())


def test_the_generator_writes_out_some_conversions() -> None:
    names = {(revision, cls.__name__) for revision, cls in CONVERTED}
    assert {("2026-07-28", "RequestMetaObject"), ("2026-07-28", "ResultMetaObject")} <= names, names


@pytest.mark.parametrize(("revision", "cls"), CONVERTED, ids=[f"{r}:{c.__name__}" for r, c in CONVERTED])
def test_written_out_conversions_read_as_the_general_path(revision: str, cls: type[OpenObject]) -> None:
    # The same variants as above on a valid object with every declared member present: each member
    # removed, given each JSON kind (a Struct member given `{}` lacks its required members), an
    # undeclared member added; and the members with nothing to convert alone (the `in` checks).
    general = OpenObject.__dict__["_from_wire"].__func__
    doc = {f.encode_name: _sample(f.type) for f in msgspec.structs.fields(cls._fields_)}
    simple_only = {k: v for k, v in doc.items() if k not in dict(cls._converted_).values()}
    cases = [*_variants(doc), simple_only, None, [], "x", 7]
    accepted = 0
    for case in cases:
        for liberal in (True, False):
            mine = _outcome(lambda: cls._from_wire(copy.deepcopy(case), liberal))  # noqa: B023
            theirs = _outcome(lambda: general(cls, copy.deepcopy(case), liberal))  # noqa: B023
            assert mine == theirs, (revision, cls.__name__, case, liberal)
            accepted += mine[0] == "ok"
    assert accepted, "no variant was accepted: the cases hold the readers to nothing"
