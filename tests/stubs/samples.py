"""Round-tripping JSON samples through generated Structs: what "exact" means for a generated type."""

from __future__ import annotations

from typing import Any

import msgspec


def resolve(schema: Any, root: Any) -> Any:
    while (
        isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/")
    ):
        node = root
        for part in schema["$ref"][2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def with_defaults(value: Any, schema: Any, root: Any) -> Any:
    """`value` with the schema's defaults filled in where a member is absent (a generated Struct
    writes them out: the server would assume them anyway)."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out = {k: with_defaults(v, props.get(k, {}), root) for k, v in value.items()}
        for key, sub in props.items():
            sub = resolve(sub, root)
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = sub["default"]
        for key in ("allOf",):
            for part in schema.get(key, []):
                out = with_defaults(out, part, root)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [with_defaults(v, schema["items"], root) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """JSON equality (1 == 1.0, as JSON numbers; True is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def round_trips(sample: Any, tp: Any, schema: Any) -> bool:
    """The sample survives conversion into `tp` and back, defaults aside."""
    back = msgspec.to_builtins(msgspec.convert(sample, tp))
    return same(back, with_defaults(sample, schema, schema))
