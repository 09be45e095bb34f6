"""JSON numbers as JSON Schema counts them: `1.0` is an integer ("integer" matches any number with a
zero fractional part), while msgspec's `int` takes only a JSON integer. A check that fails is tried
again with the floats read as ints where it failed (the place msgspec's error names), so the success
path costs nothing and a float where any value may go (a `dict[str, Any]` argument) stays a float."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

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


_MAX_RETRIES: Final = 32
"""How many times `convert` tries again, one failing place (and its siblings) read as ints each time."""
_INT_WANTED: Final = r"Expected `([^`]*)`, got `float` - at `\$([^`]*)`"
"""(Patterns compiled on first use, by `re`'s own cache: nothing at import.)"""
_STEP: Final = r"\.([^.\[\]`]+)|\[(\d+|\.\.\.)\]"
_EACH: Final = -1
"""A path step that stands for every item: msgspec names a dict's values `[...]`, not by key."""


def convert(value: Any, tp: type[T], into: Callable[[Any, type[T]], T] = msgspec.convert) -> T:
    """`into(value, tp)`; if that fails because a whole float is where an `int` is expected, again with
    that float read as an int, until it validates (at most `_MAX_RETRIES` times). Only such places
    change: a float the type takes as it is (in `Any`, say) stays a float. If it never validates, the
    last failure is raised: what is wrong once such floats are read as the integers they are."""
    try:
        return into(value, tp)
    except msgspec.ValidationError as exc:
        error = exc
    for _ in range(_MAX_RETRIES):
        fixed = _fixed(value, str(error))
        if fixed is None:
            break
        value = fixed
        try:
            return into(value, tp)
        except msgspec.ValidationError as exc:
            error = exc
    raise error


def _fixed(value: Any, message: str) -> Any:
    """`value` with the whole float(s) at the place `message` names read as ints, if the type expected
    there takes an int; None if there is no such float there (then nothing is left to try)."""
    wanted = re.fullmatch(_INT_WANTED, message)
    if wanted is None or "int" not in wanted[1].split(" | "):
        return None
    path, steps = wanted[2], []
    end = 0
    for step in re.finditer(_STEP, path):
        if step.start() != end:
            return None  # a name msgspec wrote in a form this does not read: no guess
        end = step.end()
        name, index = step[1], step[2]
        steps.append(name if name is not None else _EACH if index == "..." else int(index))
    if end != len(path):
        return None
    return _at(value, steps)


def _at(value: Any, steps: list[str | int]) -> Any:
    """`value` with the whole float reached by `steps` as an int (copied on the way: `value` is the
    caller's), or None. A list's index stands for all its items, as `[...]` does for a dict's values:
    they have one type (a tuple's may differ, and a number read as an int where a float is expected is
    the same number), and one retry then reads a long list of whole floats."""
    if not steps:
        if type(value) is float and value.is_integer() and _LOW <= value < _HIGH:
            return int(value)
        return None
    step, rest = steps[0], steps[1:]
    if type(value) is dict:
        keys = list(value) if step == _EACH else [step] if step in value else []
        changed = None
        for key in keys:
            new = _at(value[key], rest)
            if new is not None:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return changed
    if type(value) is list and type(step) is int and 0 <= step < len(value):
        items = [_at(item, rest) for item in value]
        if all(item is None for item in items):
            return None
        return [old if new is None else new for old, new in zip(value, items, strict=True)]
    return None
