"""JSON numbers as JSON Schema counts them: `1.0` is an integer ("integer" matches any number with a
zero fractional part), while msgspec's `int` takes only a JSON integer. A check that fails is tried
once more with those floats read as ints, so the success path costs nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

__all__ = ["convert", "whole_numbers"]

T = TypeVar("T")

_LOW, _HIGH = -(1 << 63), 1 << 64
"""The integers msgspec reads (int64 and uint64): a float beyond them stays a float."""


def whole_numbers(value: Any) -> Any:
    """`value` (JSON data: dicts, lists, scalars) with every float of integral value as an int; the
    very same object when it has none (or is nested too deep to walk)."""
    try:
        return _whole(value)
    except RecursionError:
        return value


def _whole(value: Any) -> Any:
    if type(value) is float:
        return int(value) if value.is_integer() and _LOW <= value < _HIGH else value
    if type(value) is dict:
        changed = None
        for key, item in value.items():
            new = _whole(item)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if type(value) is list:
        items = [_whole(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def convert(value: Any, tp: type[T], into: Callable[[Any, type[T]], T] = msgspec.convert) -> T:
    """`into(value, tp)`; if that fails, once more with `value`'s whole floats as ints. The first
    failure is raised if the second fails too (or there was no such float)."""
    try:
        return into(value, tp)
    except msgspec.ValidationError:
        whole = whole_numbers(value)
        if whole is value:
            raise
        try:
            return into(whole, tp)
        except msgspec.ValidationError:
            pass
        raise
