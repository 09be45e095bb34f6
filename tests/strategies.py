"""Hypothesis strategies for JSON instances of a corrected MCP schema, and the schema facts the tests need.

hypothesis-jsonschema cannot follow recursive references (`JSONValue`, `JSONObject`), so this is a small
generator of its own. It understands exactly the keywords the corrected schemas use: `$ref`, `allOf`
(merged), `anyOf`/`oneOf`, `const`, `enum`, `type` (also as a list), `properties`, `required`,
`additionalProperties`, `items`, `minimum`/`maximum`, `maxItems` and the `uri`, `uri-template` and `byte`
formats (values that look the part; formats are not validated). Past `max_depth` nested objects get only
their required members and arrays are empty, so recursive definitions stay finite.

To probe the binding's choices, not just its happy path: `number` gives ints, floats and integral floats
(1.0); integers reach past 64 bits; plain strings sometimes take one of the schema's string constants
(tags, dispatch hints); objects that admit undeclared members sometimes get `x-extra`-style keys and a
member name some other definition declares (which a dispatched union must not be misled by).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st

KNOWN_KEYWORDS = frozenset(
    {
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        "const",
        "enum",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minimum",
        "maximum",
        "maxItems",
        "format",
        "description",
    }
)

#: Keys added to objects that admit undeclared members (never one a schema declares).
EXTRA_KEYS = ("x-extra", "x-extra-2", "com.example/extension")
URIS = ("file:///x", "https://example.com/a?b=1#c", "urn:example:thing", "data:text/plain;base64,SGk=")
URI_TEMPLATES = ("file:///{path}", "https://example.com/{id}/items{?page}")
#: JSON kinds, as `kind_of` names them; "number" accepts "integer" too.
KINDS = ("object", "array", "string", "integer", "number", "boolean", "null")

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
#: Beyond 64 bits too: JSON has no integer limit, and request ids are echoed back as sent.
INT_BOUND = 2**70


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    raise TypeError(f"not JSON: {value!r}")


def numbers(node: dict[str, Any], integral_only: bool) -> st.SearchStrategy[Any]:
    return _numbers(node.get("minimum"), node.get("maximum"), integral_only)


@cache
def _numbers(lo: float | None, hi: float | None, integral_only: bool) -> st.SearchStrategy[Any]:
    ints = st.integers(
        min_value=-INT_BOUND if lo is None else int(lo), max_value=INT_BOUND if hi is None else int(hi)
    )
    if integral_only:
        return ints
    floats = st.floats(
        min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, allow_subnormal=False
    )
    # 1 and 1.0 are different on the wire: `number` must keep whichever was sent.
    return st.one_of(ints, floats, ints.map(float))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-INT_BOUND, INT_BOUND),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False),
    TEXT,
)


def free_json(draw: Callable[[st.SearchStrategy[Any]], Any], depth: int) -> Any:
    """Any JSON value (what `{}` or an absent schema admits), nested at most `depth` deep.

    Written out rather than `st.recursive`, which costs several times as much per example."""
    shape = draw(st.integers(0, 2)) if depth > 0 else 0
    if shape == 0:
        return draw(SCALARS)
    if shape == 1:
        return [free_json(draw, depth - 1) for _ in range(draw(st.integers(0, 3)))]
    keys = draw(st.lists(TEXT, max_size=3, unique=True))
    return {key: free_json(draw, depth - 1) for key in keys}


@dataclass
class ObjectShape:
    """An object schema with its `allOf` parts merged."""

    properties: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    #: None when absent (undeclared members allowed), else the keyword's value.
    additional: Any = None


class SchemaGen:
    """Instances of one corrected schema's definitions."""

    def __init__(self, schema: dict[str, Any], defs_key: str, max_depth: int = 4) -> None:
        self.schema = schema
        self.defs_key = defs_key
        self.defs: dict[str, Any] = schema[defs_key]
        self.prefix = f"#/{defs_key}/"
        self.max_depth = max_depth
        names: set[str] = set()
        consts: set[str] = set()
        self._collect(self.defs, names, consts)
        #: Member names declared anywhere: as undeclared members elsewhere, they probe union dispatch.
        self.member_names = sorted(names)
        #: String constants and enum members: plain strings sometimes take one (dispatch hints, tags).
        self.vocabulary = sorted(consts)

    def _collect(self, node: Any, names: set[str], consts: set[str]) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                names.update(node["properties"])
            if isinstance(node.get("const"), str):
                consts.add(node["const"])
            consts.update(v for v in node.get("enum", []) if isinstance(v, str))
            for key, value in node.items():
                if key == "properties":
                    for sub in value.values():
                        self._collect(sub, names, consts)
                else:
                    self._collect(value, names, consts)
        elif isinstance(node, list):
            for value in node:
                self._collect(value, names, consts)

    # -- schema facts --------------------------------------------------------------------------------

    def ref_name(self, ref: str) -> str:
        assert ref.startswith(self.prefix), ref
        return ref[len(self.prefix) :]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow `$ref` (the schemas give it no sibling but a description)."""
        while "$ref" in node:
            node = self.defs[self.ref_name(node["$ref"])]
        unknown = set(node) - KNOWN_KEYWORDS
        assert not unknown, f"generator does not understand {sorted(unknown)}"
        return node

    def options(self, node: dict[str, Any]) -> list[dict[str, Any]] | None:
        node = self.resolve(node)
        found = node.get("anyOf", node.get("oneOf"))
        return list(found) if found is not None else None

    def is_object(self, node: dict[str, Any]) -> bool:
        node = self.resolve(node)
        if "anyOf" in node or "oneOf" in node or "const" in node or "enum" in node:
            return False
        return "allOf" in node or "properties" in node or node.get("type") == "object"

    def shape(self, node: dict[str, Any]) -> ObjectShape:
        node = self.resolve(node)
        out = ObjectShape()
        for part in node.get("allOf", []):
            sub = self.shape(part)
            for key, value in sub.properties.items():
                out.properties[key] = {**out.properties[key], **value} if key in out.properties else value
            out.required += [k for k in sub.required if k not in out.required]
            if sub.additional is not None:
                out.additional = sub.additional
        for key, value in node.get("properties", {}).items():
            out.properties[key] = {**out.properties[key], **value} if key in out.properties else value
        out.required += [k for k in node.get("required", []) if k not in out.required]
        if "additionalProperties" in node:
            out.additional = node["additionalProperties"]
        return out

    def kinds(self, node: dict[str, Any], seen: frozenset[int] = frozenset()) -> frozenset[str]:
        """The JSON kinds a node admits (at the top level only)."""
        node = self.resolve(node)
        if id(node) in seen:
            return frozenset()
        seen = seen | {id(node)}
        if "const" in node:
            return frozenset({kind_of(node["const"])})
        if "enum" in node:
            return frozenset(kind_of(v) for v in node["enum"])
        opts = self.options(node)
        if opts is not None:
            return frozenset().union(*(self.kinds(o, seen) for o in opts))
        if "allOf" in node or "properties" in node:
            return frozenset({"object"})
        kind = node.get("type")
        if kind is None:
            return frozenset(KINDS)
        found = set(kind) if isinstance(kind, list) else {kind}
        if "number" in found:
            found.add("integer")
        return frozenset(found)

    def allows_extra(self, shape: ObjectShape) -> bool:
        return shape.additional is not False

    # -- generation ----------------------------------------------------------------------------------

    def instances(self, name: str) -> st.SearchStrategy[Any]:
        """Instances of definition `name`."""
        return self.node_instances({"$ref": self.prefix + name})

    def node_instances(self, node: dict[str, Any]) -> st.SearchStrategy[Any]:
        """Instances of any schema node of this schema."""

        @st.composite
        def build(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
            return self.value(draw, node, 0)

        return build()

    def value(self, draw: Callable[[st.SearchStrategy[Any]], Any], node: dict[str, Any], depth: int) -> Any:
        assert depth < self.max_depth + 20, "schema recursion through required members"
        node = self.resolve(node)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return draw(st.sampled_from(node["enum"]))
        opts = self.options(node)
        if opts is not None:
            return self.value(draw, opts[draw(st.integers(0, len(opts) - 1))], depth)
        if "allOf" in node or "properties" in node:
            return self.object(draw, node, depth)
        kind = node.get("type")
        if isinstance(kind, list):
            kind = draw(st.sampled_from(kind))
        if kind is None:
            return free_json(draw, 0 if depth >= self.max_depth else 2)
        if kind == "object":
            return self.object(draw, node, depth)
        if kind == "array":
            items = node.get("items", {})
            top = 0 if depth >= self.max_depth else min(3, node.get("maxItems", 3))
            count = draw(st.integers(0, top))
            return [self.value(draw, items, depth + 1) for _ in range(count)]
        if kind == "string":
            fmt = node.get("format")
            if fmt == "uri":
                return draw(st.sampled_from(URIS))
            if fmt == "uri-template":
                return draw(st.sampled_from(URI_TEMPLATES))
            if fmt == "byte":
                return base64.b64encode(draw(st.binary(max_size=6))).decode()
            if self.vocabulary and draw(st.integers(0, 7)) == 0:
                return draw(st.sampled_from(self.vocabulary))
            return draw(TEXT)
        if kind == "integer":
            return draw(numbers(node, integral_only=True))
        if kind == "number":
            return draw(numbers(node, integral_only=False))
        if kind == "boolean":
            return draw(st.booleans())
        if kind == "null":
            return None
        raise AssertionError(f"unknown type {kind!r}")

    def object(self, draw: Callable[[st.SearchStrategy[Any]], Any], node: dict[str, Any], depth: int) -> Any:
        shape = self.shape(node)
        deep = depth >= self.max_depth
        out: dict[str, Any] = {}
        for key, prop in shape.properties.items():
            if key in shape.required or (not deep and draw(st.booleans())):
                out[key] = self.value(draw, prop, depth + 1)
        for key in shape.required:
            if key not in out:  # required but not declared: anything goes
                out[key] = free_json(draw, 0)
        if deep or not self.allows_extra(shape):
            return out
        extra = shape.additional if isinstance(shape.additional, dict) and shape.additional else None
        if shape.properties:
            # Occasionally an undeclared member: closed objects drop it, open ones keep it.
            keys = []
            if draw(st.integers(0, 3)) == 0:
                keys = [k for k in EXTRA_KEYS if k not in shape.properties][: draw(st.integers(1, 2))]
                if draw(st.booleans()):
                    pool = [k for k in self.member_names if k not in shape.properties]
                    keys.append(draw(st.sampled_from(pool)))
        else:
            keys = draw(st.lists(TEXT, max_size=3, unique=True))
        for key in keys:
            out[key] = self.value(draw, extra, depth + 1) if extra is not None else free_json(draw, 2)
        return out


@cache
def generator(revision: str) -> SchemaGen:
    from .conftest import source

    src = source(revision)
    return SchemaGen(src.schema, src.defs_key)
