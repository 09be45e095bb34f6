"""Every open object whose checks the generator writes out reads exactly as the general path does.

The generator writes `_from_wire` out for open objects whose declared members all take a shallow check
(`ToolInputSchema`, task records, ...): the checks of `OpenObject._from_wire`'s table-driven path, as
code. The golden test (`test_codec_golden.py`) holds the benchmark's messages to a record; this holds
every such class of every revision to the general path it stands for, on systematic variants of a valid
object: each member removed, each member given a value of every JSON kind, an undeclared member added.
The outcome is the same value of the same class, or the same error.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from typing import Any

import pytest

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
