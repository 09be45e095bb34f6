"""JSON Schema (2020-12, and the draft-07 forms tools still use) to Python types, as msgspec Struct source.

`Types.annotation(schema, hint)` answers the type expression of a schema and records every class it
needs (`Types.classes`, in the order they were first needed). The mapping:

- `type: object` with `properties`: a Struct (`kw_only`; an absent optional member is `UNSET`, not
  null); `additionalProperties: false` makes it refuse unknown members. An object without
  `properties`: `dict[str, T]` (T from `additionalProperties`, else `Any`).
- `array`: `list[T]` (`items`), `tuple[A, B]` (`prefixItems` closed by `items: false` or by `maxItems`).
- `string`, `integer`, `number`, `boolean`, `null`: `str`, `int`, `int | float` (3 stays 3), `bool`,
  `None`.
- `enum`, `const`: `Literal[...]` of strings and integers (other values: their JSON type).
- `type: [...]`, `nullable`, `anyOf`, `oneOf`: unions; objects that each carry a different constant
  in one member are a tagged union.
- `$ref` into `$defs` / `definitions` (recursion included) and `allOf` of objects: named Structs, the
  members merged.
- `minimum`, `maxLength`, `pattern`, `minItems`, ...: `Annotated[T, msgspec.Meta(...)]`, checked on
  validation; `format` is kept in the `Meta`; `default` and `description` become the member's default
  and docstring.

What msgspec cannot check exactly becomes the nearest wider type, and is listed in `Types.widened`
(with the JSON path), so a caller can report it: a union of untagged objects is `dict[str, Any]`;
`not`, `if`/`then`/`else`, `dependentSchemas`, `contains` are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .forms import (
    ANNOTATION_NAMES,
    RESERVED,
    class_name,
    constants,
    default_source,
    description_of,
    identifier,
    is_struct,
    json_type,
    literal,
    number_or_str,
    pointer,
    ref_name,
)

__all__ = ["Annotation", "Member", "StructDef", "Types"]

_SCALARS: Final = {
    "string": "str",
    "integer": "int",
    "number": "int | float",
    "boolean": "bool",
    "null": "None",
}
_META_KEYS: Final = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "multipleOf": "multiple_of",
    "pattern": "pattern",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
    "minProperties": "min_length",
    "maxProperties": "max_length",
}
_UNNAMEABLE: Final = re.compile(r'["\\\x00-\x1f]')
"""What msgspec refuses in a renamed field's name (a member's wire name)."""
_UNCHECKED: Final = ("not", "if", "then", "else", "dependentSchemas", "dependentRequired", "contains")


@dataclass
class Annotation:
    """A type expression, and what kind of JSON it accepts (for the rules of unions)."""

    text: str
    kinds: frozenset[str]
    """"object", "array", "str", "int", "float", "bool", "null", or "any"."""
    struct: str | None = None
    """The Struct class it names, when it is one."""


@dataclass
class Member:
    name: str
    wire: str
    annotation: str
    required: bool
    default: str | None
    doc: str | None


@dataclass
class StructDef:
    name: str
    doc: str | None
    members: list[Member] = field(default_factory=list)
    forbid_unknown: bool = False
    tag: tuple[str, str] | None = None


_ANY: Final = Annotation("Any", frozenset({"any"}))


class Types:
    """The classes a set of schemas needs, built on demand; names are unique within one `Types`."""

    def __init__(self) -> None:
        self.classes: dict[str, StructDef] = {}
        self.widened: list[str] = []
        """JSON paths where a schema's rule has no exact Python form (see the module's docstring)."""
        self._refs: dict[tuple[int, str], str] = {}
        self._taken: set[str] = set()

    def unique(self, name: str) -> str:
        base, n = name, 2
        while name in self._taken:
            name, n = f"{base}{n}", n + 1
        self._taken.add(name)
        return name

    # -- entry points ------------------------------------------------------------------------------

    def struct_of(self, schema: Mapping[str, Any], hint: str, path: str, doc: str) -> str | None:
        """The Struct for an object schema with members (a tool's input or output), or None when the
        schema is not one (then `annotation` gives its type)."""
        resolved = self._resolve_refs(schema, schema)
        if not is_struct(resolved):
            return None
        return self._struct(resolved, schema, hint, path, doc=description_of(resolved) or doc).text

    def annotation(self, schema: Any, root: Any, hint: str, path: str) -> str:
        return self._annotate(schema, root, hint, path).text

    # -- the mapping -------------------------------------------------------------------------------

    def _annotate(self, schema: Any, root: Any, hint: str, path: str) -> Annotation:
        if schema is True or schema == {} or not isinstance(schema, Mapping):
            return _ANY
        for key in _UNCHECKED:
            if key in schema:
                self.widened.append(f"{path}: `{key}` is not checked")
        if "$ref" in schema:
            return self._ref(schema["$ref"], root, path)
        base = self._base(schema, root, hint, path)
        if schema.get("nullable") is True and "null" not in base.kinds and "any" not in base.kinds:
            base = Annotation(f"{base.text} | None", base.kinds | {"null"}, None)
        return self._constrained(schema, base)

    def _base(self, schema: Mapping[str, Any], root: Any, hint: str, path: str) -> Annotation:
        if "const" in schema:
            lit = literal(schema["const"])
            kind = json_type(schema["const"])
            return Annotation(f"Literal[{lit}]" if lit else kind, frozenset({_kind(kind)}))
        if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
            return self._enum(schema["enum"])
        if is_struct(schema):  # members, and rules between them no Struct checks (`_struct` says so)
            return self._object(schema, root, hint, path)
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                siblings = {k: v for k, v in schema.items() if k not in (key, "description", "title")}
                members = [{**siblings, **m} if isinstance(m, Mapping) else m for m in schema[key]]
                return self._union(members, root, hint, f"{path}.{key}")
        if isinstance(schema.get("allOf"), list):
            merged = self._merge_all_of(schema, root, path)
            if merged is not None:
                return self._annotate(merged, root, hint, path)
            self.widened.append(f"{path}: `allOf` of non-objects is not checked")
            return _ANY
        types = schema.get("type")
        if isinstance(types, list):
            members = [{**schema, "type": t} for t in types]
            return self._union(members, root, hint, path)
        if types == "object" or (
            types is None and ("properties" in schema or "additionalProperties" in schema)
        ):
            return self._object(schema, root, hint, path)
        if types == "array" or (types is None and ("items" in schema or "prefixItems" in schema)):
            return self._array(schema, root, hint, path)
        if isinstance(types, str) and types in _SCALARS:
            text = _SCALARS[types]
            return Annotation(text, frozenset({"float", "int"} if types == "number" else {_kind(text)}))
        return _ANY

    def _enum(self, values: list[Any]) -> Annotation:
        literals = [literal(v) for v in values if v is not None]
        parts: list[str] = []
        kinds: set[str] = set()
        if all(lit is not None for lit in literals):
            parts.append(f"Literal[{', '.join(dict.fromkeys(str(lit) for lit in literals))}]")
            kinds |= {_kind(json_type(v)) for v in values if v is not None}
        else:  # floats or booleans among them: their JSON types (msgspec has no such Literal)
            for v in values:
                if v is not None and json_type(v) not in parts:
                    parts.append(json_type(v))
                    kinds.add(_kind(json_type(v)))
        if None in values:
            parts.append("None")
            kinds.add("null")
        return Annotation(" | ".join(parts), frozenset(kinds))

    def _constrained(self, schema: Mapping[str, Any], base: Annotation) -> Annotation:
        kinds = base.kinds - {"null"}
        if "any" in kinds or base.struct is not None or "null" in base.kinds:
            return base
        if base.text.startswith("tuple["):
            # A tuple's length is its members' (`minItems`/`maxItems` beside `prefixItems` say the
            # same), and msgspec refuses a length constraint on a fixed tuple: the whole schema
            # failed to compile, its results unchecked.
            return base
        if "uniqueItems" in schema:
            self.widened.append("`uniqueItems` is not checked")
        if kinds == {"int", "float"}:  # a JSON number: each Python type gets the constraints it can take
            whole = self._meta(schema, "int", integral_only=True)
            any_ = self._meta(schema, "float")
            if not any_:
                return base
            return Annotation(f"{_annotated('int', whole)} | {_annotated('float', any_)}", base.kinds, None)
        if len(kinds) != 1:
            return base
        (kind,) = kinds
        args = self._meta(schema, kind)
        return Annotation(_annotated(base.text, args), base.kinds) if args else base

    @staticmethod
    def _meta(schema: Mapping[str, Any], kind: str, *, integral_only: bool = False) -> list[str]:
        applies = {
            "str": ("pattern", "minLength", "maxLength"),
            "int": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
            "float": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
            "array": ("minItems", "maxItems"),
            "object": ("minProperties", "maxProperties"),
        }.get(kind, ())
        args = []
        for key in applies:
            value = schema.get(key)
            if not number_or_str(value):
                continue
            if integral_only and key == "multipleOf" and not float(value).is_integer():
                continue  # an int's multiple_of must be whole; the float member checks it
            args.append(f"{_META_KEYS[key]}={value!r}")
        if isinstance(schema.get("format"), str) and kind == "str":
            args.append(f"extra_json_schema={{'format': {schema['format']!r}}}")
        return args

    def _union(self, members: list[Any], root: Any, hint: str, path: str) -> Annotation:
        tagged = self._tagged(members, root, hint, path)
        if tagged is not None:
            return tagged
        annotated = [self._annotate(m, root, f"{hint}{i + 1}", f"{path}[{i}]") for i, m in enumerate(members)]
        if any("any" in a.kinds for a in annotated):
            return _ANY
        objects = [a for a in annotated if "object" in a.kinds]
        arrays = [a for a in annotated if "array" in a.kinds]
        parts: list[str] = []
        kinds: set[str] = set()
        for a in annotated:
            if ("object" in a.kinds and len(objects) > 1) or ("array" in a.kinds and len(arrays) > 1):
                continue
            for part in _split(a.text):
                if part not in parts:
                    parts.append(part)
            kinds |= a.kinds
        if len(objects) > 1:
            self.widened.append(f"{path}: objects told apart by no constant member: `dict[str, Any]`")
            parts.append("dict[str, Any]")
            kinds.add("object")
        if len(arrays) > 1:
            parts.append("list[Any]")
            kinds.add("array")
        if "None" in parts:  # `X | None` reads best with None last
            parts = [p for p in parts if p != "None"] + ["None"]
        struct = objects[0].struct if len(objects) == 1 and len(parts) == 1 else None
        return Annotation(" | ".join(parts), frozenset(kinds), struct)

    def _tagged(self, members: list[Any], root: Any, hint: str, path: str) -> Annotation | None:
        """Objects that each carry different constant strings in one member: a tagged union. A member
        whose tag may be one of several strings becomes one Struct per string (msgspec tags are single
        values), so that the union stays exact."""
        resolved = [self._resolve_refs(m, root) for m in members]
        if len(resolved) < 2 or not all(is_struct(r) for r in resolved):
            return None
        for key in resolved[0].get("properties", {}):
            tags = [constants(r.get("properties", {}).get(key)) for r in resolved]
            flat = [t for group in tags for t in group]
            if all(tags) and len(set(flat)) == len(flat):
                names = []
                for r, group, original in zip(resolved, tags, members, strict=True):
                    for tag in group:
                        named = ref_name(original) if len(group) == 1 else None
                        name_hint = named or f"{hint}{class_name(tag)}"
                        names.append(self._struct(r, root, name_hint, path, tag=(key, tag)).text)
                return Annotation(" | ".join(names), frozenset({"object"}))
        return None

    def _object(self, schema: Mapping[str, Any], root: Any, hint: str, path: str) -> Annotation:
        if is_struct(schema):
            return self._struct(schema, root, hint, path)
        extra = schema.get("additionalProperties", True)
        value = (
            _ANY
            if extra is True or extra is False
            else self._annotate(extra, root, f"{hint}Value", f"{path}.*")
        )
        return Annotation(f"dict[str, {value.text}]", frozenset({"object"}))

    def _struct(
        self,
        schema: Mapping[str, Any],
        root: Any,
        hint: str,
        path: str,
        *,
        tag: tuple[str, str] | None = None,
        doc: str | None = None,
    ) -> Annotation:
        name = self.unique(class_name(hint))
        definition = StructDef(name, doc or description_of(schema), tag=tag)
        self.classes[name] = definition  # before its members: they may refer back to it
        for key in ("anyOf", "oneOf", "allOf", *_UNCHECKED):
            if key in schema:
                self.widened.append(f"{path}: `{key}` is not checked")
        definition.forbid_unknown = schema.get("additionalProperties") is False
        if isinstance(schema.get("additionalProperties"), Mapping):
            self.widened.append(f"{path}: members beyond `properties` are not kept")
        listed = schema.get("required")
        required = {r for r in listed if isinstance(r, str)} if isinstance(listed, list) else set()
        taken = set(RESERVED | ANNOTATION_NAMES)
        for wire, sub in schema.get("properties", {}).items():
            if tag is not None and wire == tag[0]:
                continue  # the tag itself: msgspec writes and checks it
            if _UNNAMEABLE.search(wire):
                self.widened.append(f"{path}: member {wire!r} cannot be a msgspec field name: not kept")
                continue
            py = identifier(wire)
            while py in taken:
                py += "_"
            taken.add(py)
            annotation = self._annotate(sub, root, f"{name}{class_name(wire)}", f"{path}.{wire}")
            default = default_source(sub)
            definition.members.append(
                Member(
                    py,
                    wire,
                    annotation.text,
                    wire in required,
                    default,
                    description_of(sub) if isinstance(sub, Mapping) else None,
                )
            )
        return Annotation(name, frozenset({"object"}), name)

    def _array(self, schema: Mapping[str, Any], root: Any, hint: str, path: str) -> Annotation:
        if isinstance(schema.get("items"), list):
            # Draft-07 and before (the TypeScript SDKs' zod schemas): `items` as a list is what
            # 2020-12 calls `prefixItems`, and `additionalItems` its `items`.
            schema = {**schema, "prefixItems": schema["items"], "items": schema.get("additionalItems", True)}
        prefix = schema.get("prefixItems")
        # A tuple: closed by `items: false`, or held to its length by `minItems` and `maxItems`
        # (msgspec's schemas as mcpbind serves them, pydantic's). A `minItems` below its length (a
        # NamedTuple's trailing default) is no fixed tuple.
        n = len(prefix) if isinstance(prefix, list) else 0
        closed = schema.get("items") is False or (schema.get("maxItems") == n and schema.get("minItems") == n)
        if prefix and closed and schema.get("minItems", n) == n:
            items = [
                self._annotate(p, root, f"{hint}Item{i + 1}", f"{path}[{i}]").text
                for i, p in enumerate(prefix)
            ]
            return Annotation(f"tuple[{', '.join(items)}]", frozenset({"array"}))
        if isinstance(prefix, list) and prefix:
            self.widened.append(f"{path}: open `prefixItems` as `list[Any]`")
            return Annotation("list[Any]", frozenset({"array"}))
        item = self._annotate(schema.get("items", True), root, f"{hint}Item", f"{path}[]")
        return Annotation(f"list[{item.text}]", frozenset({"array"}))

    def _ref(self, ref: str, root: Any, path: str) -> Annotation:
        key = (id(root), ref)
        named = self._refs.get(key)
        if named is not None:
            return Annotation(named, frozenset({"object"}), named)
        target = pointer(root, ref)
        if target is None:
            self.widened.append(f"{path}: `$ref` {ref} does not resolve")
            return _ANY
        resolved = self._resolve_refs(target, root)
        if isinstance(resolved, Mapping) and "$ref" in resolved:  # bare refs in a cycle: nothing to check
            self.widened.append(f"{path}: `$ref` {ref} is a cycle of references")
            return _ANY
        hint = ref.rsplit("/", 1)[-1]
        if is_struct(resolved):
            name = self.unique(class_name(hint))
            self._taken.discard(name)  # `_struct` takes it again
            self._refs[key] = name
            return self._struct(resolved, root, name, path)
        return self._annotate(resolved, root, hint, path)

    def _resolve_refs(self, schema: Any, root: Any, depth: int = 0) -> Any:
        """`schema`, a `$ref` followed (to a bounded depth: a cycle of bare refs ends as `{}`)."""
        while isinstance(schema, Mapping) and "$ref" in schema and depth < 32:
            schema = pointer(root, schema["$ref"]) or {}
            depth += 1
        return schema

    def _merge_all_of(self, schema: Mapping[str, Any], root: Any, path: str) -> dict[str, Any] | None:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = self._resolve_refs(part, root)
            if not isinstance(part, Mapping) or part.get("type", "object") != "object":
                return None
            merged["type"] = "object"
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            if part.get("additionalProperties") is False:
                merged["additionalProperties"] = False
        return merged


def _annotated(text: str, args: list[str]) -> str:
    return f"Annotated[{text}, msgspec.Meta({', '.join(args)})]" if args else text


def _kind(text: str) -> str:
    return {"str": "str", "int": "int", "int | float": "float", "bool": "bool", "None": "null"}.get(
        text, "array" if text.startswith("list") else "object"
    )


def _split(text: str) -> list[str]:
    """The top-level members of a union expression."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "[(" and 1) or 0
        depth -= (ch in "])" and 1) or 0
        if ch == "|" and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts
