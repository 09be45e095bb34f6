"""Python types as MCP data: JSON Schemas, conversion in and out, and elicitation forms.

msgspec handles what it knows (Structs, dataclasses, TypedDicts, attrs, the standard types); pydantic
models, and hints over them (`list[Model]`, `Model | None`), are taken as pydantic reads them when
pydantic is installed (never imported here unless a model exists, which its user imported pydantic
for). Elicitation forms are what the spec allows: an object of flat primitive members (string,
number, integer, boolean, enums, and lists of enum values).
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from typing import Any, Final

import msgspec

__all__ = [
    "is_pydantic",
    "by_pydantic",
    "is_field",
    "is_generated",
    "schema_of",
    "to_plain",
    "to_json",
    "converter",
    "form_schema",
    "has_pydantic_members",
    "member_constrained_schema",
    "root_object",
]

_PRIMITIVES: Final = frozenset({"string", "number", "integer", "boolean"})


def is_pydantic(tp: Any) -> bool:
    """`tp` is a pydantic model class (False when pydantic was never imported)."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def by_pydantic(tp: Any) -> bool:
    """`tp` is read by pydantic: a model, a hint over one (`list[Model]`, `Model | None`,
    `dict[str, Model]`...), or a hint annotated with pydantic's `Field` (`Annotated[int,
    Field(ge=1, description=...)]`) or with what else pydantic reads in `Annotated`: its validators
    (`AfterValidator(fn)`), its constrained types' constraints (`PositiveInt` is `Annotated[int,
    Gt(0)]`, of `annotated_types`). msgspec can neither describe nor check these: it would skip them."""
    if sys.modules.get("pydantic") is None:
        return False
    return (
        is_pydantic(tp)
        or is_field(tp)
        or type(tp).__module__.partition(".")[0] in _PYDANTIC_METADATA
        or any(by_pydantic(arg) for arg in typing.get_args(tp))
    )


_PYDANTIC_METADATA: Final = frozenset({"pydantic", "annotated_types"})
"""The packages whose objects in `Annotated` pydantic reads (and msgspec skips)."""


def is_field(value: Any) -> bool:
    """`value` is pydantic's `FieldInfo` (what `pydantic.Field(...)` makes)."""
    fields = sys.modules.get("pydantic.fields")
    return fields is not None and isinstance(value, fields.FieldInfo)


def is_generated(tp: type) -> bool:
    """`tp` is a class of a revision's generated module (a protocol type, not the user's own of the
    same name)."""
    return tp.__module__.startswith("mcpbind.generated.")


def _adapter(tp: Any) -> Any:
    """pydantic's `TypeAdapter` of a hint over a model (pydantic is imported: a model exists)."""
    from pydantic import TypeAdapter

    return TypeAdapter(tp)


def root_object(schema: dict[str, Any]) -> dict[str, Any]:
    """msgspec (and pydantic) reference a class from the root (`$ref`); MCP needs the object itself at
    the root. A recursive class keeps its definition under `$defs` too: its members (or another
    class's) still say `#/$defs/<it>`, which a client compiling the schema (ajv) must resolve."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        defs = dict(schema.get("$defs", {}))
        name = ref.removeprefix("#/$defs/")
        root = dict(defs[name])
        root.pop("title", None)
        if not _refers_to(defs, ref):
            del defs[name]
        if defs:
            root["$defs"] = defs
        return root
    return schema


def _refers_to(node: Any, ref: str) -> bool:
    """Some `$ref` within `node` (JSON data) is `ref`."""
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_refers_to(value, ref) for value in node.values())
    if isinstance(node, list):
        return any(_refers_to(value, ref) for value in node)
    return False


def schema_of(tp: Any) -> dict[str, Any]:
    """The JSON Schema of `tp` (its object at the root, definitions under `$defs`)."""
    if is_pydantic(tp):
        schema: dict[str, Any] = tp.model_json_schema()
        schema.pop("title", None)
        # (A recursive model is a `$ref` at the root, as msgspec gives for every Struct.)
        return root_object(schema)
    if by_pydantic(tp):
        return root_object(_adapter(tp).json_schema())
    return root_object(_without_closed_tuples(msgspec.json.schema(tp)))


def _without_closed_tuples(node: Any) -> Any:
    """msgspec closes a tuple with `"items": false` after its `prefixItems` (2020-12). A draft-07
    validator (the TypeScript 1.x SDK's ajv) knows no `prefixItems` and reads `items: false` as "no
    items at all", refusing every tuple. Where `maxItems` already bounds the tuple to its positions,
    `items: false` says nothing more under 2020-12: it is dropped (in place; returns `node`)."""
    if isinstance(node, dict):
        prefix = node.get("prefixItems")
        if node.get("items") is False and isinstance(prefix, list) and node.get("maxItems") == len(prefix):
            del node["items"]
        for value in node.values():
            _without_closed_tuples(value)
    elif isinstance(node, list):
        for value in node:
            _without_closed_tuples(value)
    return node


def _pydantic_builtins(value: Any) -> Any:
    if is_pydantic(type(value)):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def to_plain(value: Any) -> Any:
    """A result (Struct, dataclass, TypedDict, pydantic model, standard types) as JSON data."""
    return msgspec.to_builtins(value, enc_hook=_pydantic_builtins)


def to_json(value: Any) -> bytes:
    """`value` (as `to_plain` takes it) encoded as JSON, in one pass."""
    return msgspec.json.encode(value, enc_hook=_pydantic_builtins)


def converter(tp: Any) -> Callable[[Any], Any]:
    """A function taking JSON data to a `tp`, validating it (msgspec.ValidationError, or pydantic's
    ValidationError, a ValueError, when it is not one)."""
    if is_pydantic(tp):
        validate: Callable[[Any], Any] = tp.model_validate
        return validate
    if by_pydantic(tp):
        adapted: Callable[[Any], Any] = _adapter(tp).validate_python
        return adapted
    members = _pydantic_members(tp)
    if members:
        # A dataclass, TypedDict or Struct some of whose members pydantic reads (`Annotated[int,
        # Field(ge=1)]`): msgspec would skip their constraints, so each is validated by pydantic
        # first (its own hint: pydantic adapts no `typing.TypedDict` before Python 3.12, nor a
        # Struct), then the whole converted by msgspec, which checks the rest (its `Meta` too).
        checks = {
            # (a member of such a class itself: converted by its own checks, an instance msgspec takes)
            name: converter(hint) if _pydantic_members(hint) else _adapter(hint).validate_python
            for name, hint in members.items()
        }
        return lambda data: _convert(_checked(data, checks), tp)
    return lambda data: _convert(data, tp)


def _pydantic_members(tp: Any, _within: frozenset[type] = frozenset()) -> dict[str, Any]:
    """The members of a class of members (a dataclass, TypedDict or msgspec Struct) whose hints
    pydantic reads, or that are such a class themselves with such members (nested: `Order.address`,
    an `Address` whose `zip` has a `Field`), by the name each has in JSON data; none for any other
    type. (`_within`: the classes being looked into, one that refers to itself looked into once.)"""
    if sys.modules.get("pydantic") is None or not isinstance(tp, type) or tp in _within:
        return {}
    import dataclasses  # (on use, pydantic imported: a server that never needs it does not load it)

    if issubclass(tp, msgspec.Struct):
        hints = [(f.encode_name, f.type) for f in msgspec.structs.fields(tp)]
    elif dataclasses.is_dataclass(tp) or typing.is_typeddict(tp):
        hints = list(typing.get_type_hints(tp, include_extras=True).items())
    else:
        return {}
    within = _within | {tp}
    return {name: hint for name, hint in hints if by_pydantic(hint) or _pydantic_members(hint, within)}


def has_pydantic_members(tp: Any) -> bool:
    """`tp` is a dataclass, TypedDict or Struct some of whose members pydantic reads (`Annotated[int,
    Field(ge=1)]`): msgspec alone would skip their constraints, in its schema and in its checks."""
    return bool(_pydantic_members(tp))


def member_constrained_schema(tp: Any) -> dict[str, Any]:
    """`schema_of(tp)` for a class of members, each member pydantic reads described by pydantic
    (msgspec's schema of it lacks its constraints)."""
    schema = schema_of(tp)
    properties = schema.get("properties", {})
    for name, hint in _pydantic_members(tp).items():
        if name in properties:
            nested = bool(_pydantic_members(hint))
            own = member_constrained_schema(hint) if nested else schema_of(hint)
            defs = own.pop("$defs", None)
            if defs:
                schema.setdefault("$defs", {}).update(defs)
            # (A nested class's `$ref` gives way to its own schema, with its members' constraints.)
            kept = {k: v for k, v in properties[name].items() if not (nested and k == "$ref")}
            properties[name] = {**kept, **own}
    defs = schema.get("$defs")
    if defs:  # (a definition only such a `$ref` named is gone with it)
        rest = {k: v for k, v in schema.items() if k != "$defs"}
        for name in [n for n in defs if not _refers_to([rest, defs], f"#/$defs/{n}")]:
            del defs[name]
        if not defs:
            del schema["$defs"]
    return schema


def _checked(data: Any, checks: dict[str, Callable[[Any], Any]]) -> Any:
    """`data` (JSON data) with each member `checks` names validated, and taken as validated (a
    validator may change a value)."""
    if not isinstance(data, dict):
        return data  # (msgspec refuses what is no object)
    checked = dict(data)
    for name, check in checks.items():
        if name in checked:
            try:
                checked[name] = check(checked[name])
            except ValueError as exc:  # (pydantic's says `constrained-int`: the member is named)
                raise ValueError(f"`{name}`: {exc}") from None
    return checked


def _convert(data: Any, tp: Any) -> Any:
    try:
        return msgspec.convert(data, tp)
    except msgspec.ValidationError:
        from ..protocol import numbers  # (on use: `1.0` for an int, an integer as JSON Schema counts)

        return numbers.convert(data, tp)


def form_schema(tp: Any) -> dict[str, Any]:
    """The elicitation form (`requestedSchema`) for `tp`: TypeError naming a member that is not flat."""
    schema = schema_of(tp)
    defs = schema.pop("$defs", {})
    if schema.get("type") != "object":
        raise TypeError(f"an elicitation form is an object: {tp!r} is not one")
    properties: dict[str, Any] = {}
    required = set(schema.get("required", ()))
    members = _pydantic_members(tp)
    for name, prop in schema.get("properties", {}).items():
        if name in members:
            # (msgspec's schema of a member pydantic reads lacks its constraints: pydantic's has them.)
            prop = {**prop, **schema_of(members[name])}
        flat = _flat(prop, defs)
        if flat is None:
            raise TypeError(
                f"elicitation form {tp.__name__}: member {name!r} is not a flat primitive: {prop}"
            )
        properties[name] = flat
    form: dict[str, Any] = {"type": "object", "properties": properties}
    kept = [n for n in properties if n in required]
    if kept:
        form["required"] = kept
    return form


def _flat(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """A member's schema as a primitive form field, or None when it is not one."""
    ref = prop.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1])
        if target is None:
            return None
        extra = {k: v for k, v in prop.items() if k != "$ref"}
        prop = {**target, **extra}
    options = prop.get("anyOf") or prop.get("oneOf")
    if options:
        # `X | None` (msgspec, pydantic): the field is X, and optional (not in `required`).
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) != 1:
            return None
        extra = {k: v for k, v in prop.items() if k not in ("anyOf", "oneOf")}
        return _flat({**kept[0], **extra}, defs)
    if prop.get("default", ...) is None:  # (`X | None = None`: a form field's default is never null)
        prop = {k: v for k, v in prop.items() if k != "default"}
    kind = prop.get("type")
    if "enum" in prop and kind in (None, "string"):
        return {**{k: v for k, v in prop.items() if k != "title"}, "type": "string"}
    if kind in _PRIMITIVES:
        return {k: v for k, v in prop.items() if k != "title"} if "title" in prop else prop
    if kind == "array":
        items = prop.get("items")
        if isinstance(items, dict):
            item = _flat(items, defs)
            if item is not None and "enum" in item:
                return {**{k: v for k, v in prop.items() if k not in ("items", "title")}, "items": item}
    return None
