"""What a client's accepted elicitation content must be: the values the requested form allows.

An elicitation form (`requestedSchema`) is a flat object of primitive fields (string, number, integer,
boolean, and the single- and multi-select enums of 2025-11-25). Servers SHOULD check that what comes
back matches it (elicitation, Form Mode Security): a handler given a dict form would otherwise take a
number for a string, or miss a required field, from any client. `mismatch` says what is wrong, or None.
Keywords it does not know (formats, say) are left to the handler; members the form does not name are
left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["mismatch"]


def mismatch(form: Mapping[str, Any], content: Mapping[str, Any]) -> str | None:
    """Why `content` does not fill `form`, or None when it does."""
    properties = form.get("properties")
    if not isinstance(properties, Mapping):
        return None
    for name in form.get("required") or ():
        if name not in content:
            return f"{name!r} is required"
    for name, value in content.items():
        field = properties.get(name)
        if isinstance(field, Mapping):
            why = _field(field, value)
            if why is not None:
                return f"{name!r} {why}"
    return None


def _field(field: Mapping[str, Any], value: Any) -> str | None:
    kind = field.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return "must be a string"
        low, high = field.get("minLength"), field.get("maxLength")
        if isinstance(low, int) and len(value) < low:
            return f"must be at least {low} characters"
        if isinstance(high, int) and len(value) > high:
            return f"must be at most {high} characters"
        return None if _choice(field, value) else "must be one of the form's choices"
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a{'n integer' if kind == 'integer' else ' number'}"
        if kind == "integer" and not (isinstance(value, int) or value.is_integer()):
            return "must be an integer"
        low, high = field.get("minimum"), field.get("maximum")
        if isinstance(low, int | float) and value < low:
            return f"must be at least {low}"
        if isinstance(high, int | float) and value > high:
            return f"must be at most {high}"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "array":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of strings"
        low, high = field.get("minItems"), field.get("maxItems")
        if isinstance(low, int) and len(value) < low:
            return f"must have at least {low} items"
        if isinstance(high, int) and len(value) > high:
            return f"must have at most {high} items"
        items = field.get("items")
        if isinstance(items, Mapping) and not all(_choice(items, v) for v in value):
            return "must hold only the form's choices"
        return None
    return None


def _choice(field: Mapping[str, Any], value: str) -> bool:
    """`value` is one of the field's choices (`enum`, or the `const` of each `oneOf`/`anyOf`), or the
    field has none."""
    choices = field.get("enum")
    if isinstance(choices, list):
        return value in choices
    options = field.get("oneOf") or field.get("anyOf")
    if isinstance(options, list):
        consts = [o.get("const") for o in options if isinstance(o, Mapping) and "const" in o]
        return not consts or value in consts
    return True
