"""Python types as MCP data: JSON Schemas, conversion in and out, and elicitation forms.

msgspec handles what it knows (Structs, dataclasses, TypedDicts, attrs, the standard types); pydantic
models, and hints over them (`list[Model]`, `Model | None`), are taken as pydantic reads them when
pydantic is installed (never imported here unless a model exists, which its user imported pydantic
for). Elicitation forms are what the spec allows: an object of flat primitive members (string,
number, integer, boolean, enums, and lists of enum values).
"""

from __future__ import annotations

import sys
import types
import typing
from collections import abc
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
    check = _check_of(tp, {})
    if check is None:
        return lambda data: _convert(data, tp)
    # Somewhere within `tp` is a dataclass, TypedDict or Struct some of whose members pydantic reads
    # (`Annotated[int, Field(ge=1)]`), itself or as `list[Order]`, `Order | None`, `dict[str, Order]`:
    # msgspec would skip their constraints, so each such class is validated first (`_check_of`),
    # then the whole converted by msgspec, which takes the instances made and checks the rest.
    return lambda data: _convert(check(data), tp)


_Check = Callable[[Any], Any]


def _check_of(tp: Any, building: dict[Any, list[_Check]]) -> _Check | None:
    """What validates JSON data of `tp` where msgspec alone would skip a constraint pydantic reads,
    giving the data with each such class made (an instance msgspec takes as it is); None where
    nothing within `tp` needs it. `building`: the classes whose check is being made (a class that
    refers to itself, `Node | None` in `Node`, uses its own check, found when called)."""
    if by_pydantic(tp):
        adapted: _Check = _adapter(tp).validate_python
        return adapted
    if tp in building:
        cell = building[tp]
        return lambda data: cell[0](data)
    if _pydantic_members(tp):
        cell = building[tp] = []
        # (its own hint each: pydantic adapts no `typing.TypedDict` before Python 3.12, nor a Struct)
        members = {name: _check_of(hint, building) for name, hint in _pydantic_members(tp).items()}
        del building[tp]
        checks = {name: check for name, check in members.items() if check is not None}
        cell.append(lambda data: _convert(_checked(data, checks), tp))
        return cell[0]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return _check_of(args[0], building)
    if origin in (typing.Union, types.UnionType):
        options = [(_shape(a), c) for a in args if (c := _check_of(a, building)) is not None]
        if not options:
            return None

        def option(data: Any) -> Any:  # (msgspec's unions hold one object type and one array type)
            shape = "object" if isinstance(data, dict) else "array" if isinstance(data, list) else None
            for kind, check in options:
                if kind == shape:
                    return check(data)
            return data

        return option
    if origin in _ARRAYS and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            positions = [_check_of(a, building) for a in args]
            if all(c is None for c in positions):
                return None
            return lambda data: (
                [c(v) if c else v for c, v in zip(positions, data, strict=False)] + data[len(positions) :]
                if isinstance(data, list)
                else data
            )
        item = _check_of(args[0], building)
        if item is None:
            return None
        return lambda data: [item(v) for v in data] if isinstance(data, list) else data
    if origin in _OBJECTS and len(args) == 2:
        value = _check_of(args[1], building)
        if value is None:
            return None
        return lambda data: {k: value(v) for k, v in data.items()} if isinstance(data, dict) else data
    return None


_ARRAYS: Final = frozenset({list, tuple, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Set})
_OBJECTS: Final = frozenset({dict, abc.Mapping, abc.MutableMapping})


def _shape(tp: Any) -> str:
    """The JSON shape of a class of members or a container hint: "array" or "object"."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _shape(typing.get_args(tp)[0])
    return "array" if origin in _ARRAYS else "object"


def _constrained(tp: Any, within: frozenset[Any], known: frozenset[Any]) -> bool:
    """Somewhere within the hint `tp` (`list[Order]`, `Order | None`...) is what pydantic reads, or
    a class of members some of which it reads (`within`, `known`: as `_pydantic_members` says)."""
    if tp in known:
        return True
    if by_pydantic(tp) or _pydantic_members(tp, within, known):
        return True
    return any(_constrained(arg, within, known) for arg in typing.get_args(tp))


def _pydantic_members(
    tp: Any, _within: frozenset[Any] = frozenset(), _known: frozenset[Any] = frozenset()
) -> dict[str, Any]:
    """The members of a class of members (a dataclass, TypedDict or msgspec Struct) whose hints
    pydantic reads, or hold such a class with such members (nested: `Order.address`, an `Address`
    whose `zip` has a `Field`; `Order.lines: list[Line]`), by the name each has in JSON data; none
    for any other type. (`_within`: the classes being looked into; `_known`: those found to have
    such members. A class that refers to itself, `Node.next: Node | None`, is looked into once, then
    again knowing whether it has such members, which makes the member referring to it one too.)"""
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
    if not any(_constrained(hint, within, _known) for _, hint in hints):
        return {}
    known = _known | {tp}
    return {name: hint for name, hint in hints if _constrained(hint, within, known)}


def has_pydantic_members(tp: Any) -> bool:
    """`tp` is a dataclass, TypedDict or Struct some of whose members pydantic reads (`Annotated[int,
    Field(ge=1)]`), or holds one (`list[Order]`, `Order | None`, `dict[str, Order]`): msgspec alone
    would skip their constraints, in its schema and in its checks."""
    return sys.modules.get("pydantic") is not None and _constrained(tp, frozenset(), frozenset())


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
    _constrain_definitions(schema, tp)
    return schema


def _constrain_definitions(schema: dict[str, Any], tp: Any) -> None:
    """The definitions (msgspec's, under `$defs`) of the classes of members held within `tp`
    (`list[Order]`, `Node.next: Node | None`) given the constraints of their members pydantic reads."""
    defs = schema.get("$defs")
    if not defs:
        return
    for cls in _classes_within(tp, set()):
        definition = defs.get(cls.__name__)
        properties = definition.get("properties") if isinstance(definition, dict) else None
        if not isinstance(properties, dict):
            continue
        for name, hint in _pydantic_members(cls).items():
            if name in properties and by_pydantic(hint):
                own = schema_of(hint)
                defs.update(own.pop("$defs", {}))
                properties[name] = {**properties[name], **own}


def _classes_within(tp: Any, seen: set[Any]) -> list[type]:
    """The classes of members some of which pydantic reads held within the hint `tp`, `tp` too."""
    if tp in seen or by_pydantic(tp):
        return []
    seen.add(tp)
    members = _pydantic_members(tp)
    found: list[type] = [tp] if members else []
    for hint in members.values() if members else typing.get_args(tp):
        found += _classes_within(hint, seen)
    return found


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
