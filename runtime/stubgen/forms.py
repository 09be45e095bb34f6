"""What a JSON Schema says, read without judging it: pointers, constants, the object shapes a Struct can
hold, defaults and descriptions as source, and the names of Python classes and members."""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Mapping
from typing import Any, Final, TypeGuard

__all__ = [
    "ANNOTATION_NAMES",
    "RESERVED",
    "class_name",
    "constants",
    "constraints_only",
    "default_source",
    "description_of",
    "identifier",
    "is_struct",
    "json_type",
    "literal",
    "number_or_str",
    "pointer",
    "ref_name",
]


RESERVED: Final = frozenset({"self", "given", "expand"})
"""Names a generated method uses itself (its receiver, the helpers its body calls): never a parameter's."""

ANNOTATION_NAMES: Final = frozenset(
    {"int", "float", "str", "bool", "bytes", "list", "dict", "tuple", "Any", "Literal", "Annotated"}
    | {"msgspec", "UNSET", "UnsetType"}
)
"""Names the generated annotations use: never a Struct member's. msgspec resolves a Struct's
annotations in its class body, where a member `list` (or `int`, `tuple`...) is the member's descriptor:
`list[Item]` then fails, and with it the whole module (a schema with such a property went unchecked)."""


def class_name(text: str) -> str:
    """`get_forecast`, `get-forecast`, `getForecast` -> `GetForecast` (a valid class name)."""
    words = re.findall(r"[A-Za-z][a-z0-9]*|[0-9]+|[A-Z]+(?![a-z])", text)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Item"
    return name if name[0].isalpha() else f"N{name}"


def identifier(text: str) -> str:
    """A valid, non-keyword Python identifier for `text` (kept as it is when it already is one)."""
    if text.isidentifier() and not keyword.iskeyword(text) and not text.startswith("_"):
        return text
    name = re.sub(r"\W+", "_", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)).strip("_").lower() or "value"
    if name[0].isdigit():
        name = f"n_{name}"
    return f"{name}_" if keyword.iskeyword(name) else name


def literal(value: Any) -> str | None:
    """`value` in a `Literal[...]`, or None when msgspec cannot check it as one (floats, booleans...)."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return repr(value)
    if value is None:
        return "None"
    return None


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "int | float"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "None"
    return "list[Any]" if isinstance(value, list) else "dict[str, Any]"


def is_struct(schema: Any) -> bool:
    return (
        isinstance(schema, Mapping)
        and isinstance(schema.get("properties"), Mapping)
        and bool(schema["properties"])
        and schema.get("type", "object") == "object"
        and not any(k in schema and not constraints_only(schema[k]) for k in ("anyOf", "oneOf", "allOf"))
    )


def constraints_only(value: Any) -> bool:
    """Subschemas that only say which members are required (`anyOf: [{required: [a]}, ...]`): rules
    between members of one object, beyond a Struct, that leave its members' types as they are."""
    if isinstance(value, list):
        return all(constraints_only(v) for v in value)
    if not isinstance(value, Mapping):
        return False
    allowed = {"required", "anyOf", "oneOf", "allOf", "not", "description", "title"}
    return set(value) <= allowed and all(
        constraints_only(value[k]) for k in ("anyOf", "oneOf", "allOf") if k in value
    )


def constants(schema: Any) -> list[str]:
    """The strings a member may only be (`const`, or an `enum` of strings); empty when it is free."""
    if not isinstance(schema, Mapping):
        return []
    if "const" in schema:
        return [schema["const"]] if isinstance(schema["const"], str) else []
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
        return list(dict.fromkeys(enum))
    return []


def ref_name(schema: Any) -> str | None:
    if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def pointer(root: Any, ref: str) -> Any:
    """The schema `ref` (a JSON pointer within this document: `#/$defs/X`) points at, or None."""
    if ref == "#":
        return root
    if not isinstance(ref, str) or not ref.startswith("#/"):  # a hostile schema's `$ref` may be anything
        return None
    node = root
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def number_or_str(value: Any) -> TypeGuard[int | float | str]:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def default_source(schema: Any) -> str | None:
    """The member's default as Python source (JSON literals), or None when it has none."""
    if not isinstance(schema, Mapping) or "default" not in schema:
        return None
    try:  # NaN and infinities have no JSON (nor Python literal) form: such a default is left out
        return repr(json.loads(json.dumps(schema["default"], allow_nan=False)))
    except ValueError:
        return None


def description_of(schema: Mapping[str, Any]) -> str | None:
    text = schema.get("description") or schema.get("title")
    return text.strip() if isinstance(text, str) and text.strip() else None
