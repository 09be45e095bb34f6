"""An older revision's result read straight into the newest revision's type, where the two types agree.

The conveniences type every result as the newest revision's (`calls`). The general way there reads an
answer three times: as the negotiated revision's type (the check that it is valid there), encoded
again, then decoded as the newest type. Where the two types take the same JSON to the same values, one
decode as the newest type does all of it. `direct(old, new)` finds out once per pair of types whether
that holds, comparing the types msgspec builds its decoders from (`msgspec.inspect`), and gives the
checks that remain to be made on the decoded result; None where the types differ in a way that matters.

What the comparison takes as the same: equal types, member by member, to any depth (same wire names,
required members, defaults and constraints; unions of the same members in the same order; dispatched
unions of the same tables; open objects of the same declared members); and an open object where the
older type has a free-form object (`dict[str, Any]`): the newer type reads objects only, and checks
their declared members, as the general way does when it decodes into the newest type. At the top
level only, two differences remain, each with its check on the decoded result:

* a member only the newest type has, with a default (a 2026 result's `resultType`): it must hold the
  default, as the general way leaves it (the older type drops the member; the newer type's default
  fills in);
* a member the older type reads as an object and the newer as anything (a 2026 result's
  `structuredContent`): it must be an object.

A result that fails a check, or the newest type's decoding, is decoded the general way: its outcome,
value or error, is the general way's own.
"""

from __future__ import annotations

from typing import Any, Final, Literal, cast

import msgspec
import msgspec.inspect as mi

from ..shapes import DispatchMeta, OpenObject, UnionDispatch

__all__ = ["Check", "direct"]

Check = tuple[str, Any, Literal["default", "object"]]
"""An attribute of the decoded result, and what its value must be: its default (given), or an object
(a dict) when set."""

_FREE_OBJECT: Final = mi.DictType(key_type=mi.StrType(), value_type=mi.AnyType())
"""`dict[str, Any]`, as msgspec describes it."""
_CONTAINERS: Final = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def direct(old: Any, new: Any) -> list[Check] | None:
    """The checks left after decoding a result of type `old` as `new` instead (see the module); None:
    the types differ, and a result must be decoded the general way."""
    try:
        o, n = mi.type_info(old), mi.type_info(new)
    except (TypeError, ValueError):
        return None
    if not isinstance(o, mi.StructType) or not isinstance(n, mi.StructType) or not _same_config(o, n):
        return None
    olds = {f.encode_name: f for f in o.fields}
    defaults = {f.encode_name: (f.name, f.default) for f in msgspec.structs.fields(new)}
    checks: list[Check] = []
    seen: set[tuple[Any, Any]] = {(o.cls, n.cls)}
    for field in n.fields:
        was = olds.pop(field.encode_name, None)
        if was is None:
            # Only the newest type has it: it must hold its default, as the general way leaves it.
            name, default = defaults[field.encode_name]
            if field.required or default is msgspec.NODEFAULT:
                return None
            checks.append((name, default, "default"))
        elif not _same_member(was, field):
            return None
        elif _same(was.type, field.type, seen):
            continue
        elif was.type == _FREE_OBJECT and isinstance(field.type, mi.AnyType):
            checks.append((defaults[field.encode_name][0], None, "object"))
        else:
            return None
    return None if olds else checks  # (a member the newest type lacks: the older type checks it)


def _same_config(o: mi.StructType, n: mi.StructType) -> bool:
    return (o.tag_field, o.tag, o.array_like, o.forbid_unknown_fields) == (
        n.tag_field,
        n.tag,
        n.array_like,
        n.forbid_unknown_fields,
    )


def _same_member(o: mi.Field, n: mi.Field) -> bool:
    return (o.name, o.required, o.default, o.default_factory) == (
        n.name,
        n.required,
        n.default,
        n.default_factory,
    )


def _same(o: mi.Type, n: mi.Type, seen: set[tuple[Any, Any]]) -> bool:
    """Whether `o` and `n` take the same JSON to the same values (`n` may check more, see the module)."""
    if isinstance(o, mi.StructType) and isinstance(n, mi.StructType):
        if (o.cls, n.cls) in seen:
            return True  # (a recursive type: compared already, or being compared)
        seen.add((o.cls, n.cls))
        if not _same_config(o, n) or len(o.fields) != len(n.fields):
            return False
        news = {f.encode_name: f for f in n.fields}
        for was in o.fields:
            now = news.get(was.encode_name)
            if now is None or not _same_member(was, now) or not _same(was.type, now.type, seen):
                return False
        return True
    if isinstance(o, mi.CustomType) and isinstance(n, mi.CustomType):
        return o.cls is n.cls or _same_custom(o.cls, n.cls, seen)
    if isinstance(n, mi.CustomType):
        # A free-form object read as an open object: objects only, their declared members checked.
        return o == _FREE_OBJECT and isinstance(n.cls, type) and issubclass(n.cls, OpenObject)
    if type(o) is not type(n):
        return False
    if isinstance(o, mi.UnionType) and isinstance(n, mi.UnionType):
        return len(o.types) == len(n.types) and all(
            _same(a, b, seen) for a, b in zip(o.types, n.types, strict=True)
        )
    if isinstance(o, _CONTAINERS) and isinstance(n, _CONTAINERS):
        return (o.min_length, o.max_length) == (n.min_length, n.max_length) and _same(
            o.item_type, n.item_type, seen
        )
    if isinstance(o, mi.DictType) and isinstance(n, mi.DictType):
        return (
            (o.min_length, o.max_length) == (n.min_length, n.max_length)
            and _same(o.key_type, n.key_type, seen)
            and _same(o.value_type, n.value_type, seen)
        )
    if isinstance(o, mi.TupleType) and isinstance(n, mi.TupleType):
        return len(o.item_types) == len(n.item_types) and all(
            _same(a, b, seen) for a, b in zip(o.item_types, n.item_types, strict=True)
        )
    if isinstance(o, (mi.Metadata, mi.DataclassType, mi.TypedDictType, mi.NamedTupleType)):
        return False  # (a kind the generated types do not use: not compared)
    return bool(o == n)  # scalars, literals, enums: by their constraints


def _same_custom(o: Any, n: Any, seen: set[tuple[Any, Any]]) -> bool:
    """Two generated classes msgspec reads through the decode hook: dispatched unions of the same
    tables over the same members, or open objects of the same declared members."""
    if (o, n) in seen:
        return True
    seen.add((o, n))
    if type(o) is DispatchMeta and type(n) is DispatchMeta:
        return _same_union(cast("type[UnionDispatch]", o), cast("type[UnionDispatch]", n), seen)
    if (
        isinstance(o, type)
        and isinstance(n, type)
        and issubclass(o, OpenObject)
        and issubclass(n, OpenObject)
    ):
        tables = ("_members_", "_converted_", "_hook_", "_simple_", "_required_", "_defaults_")
        return all(getattr(o, t) == getattr(n, t) for t in tables) and _same_info(
            o._fields_, n._fields_, seen
        )
    return False


def _same_union(o: type[UnionDispatch], n: type[UnionDispatch], seen: set[tuple[Any, Any]]) -> bool:
    """Dispatched unions that pick the same members by the same tables."""
    if (o._tag_, o._absent_, len(o._union_)) != (n._tag_, n._absent_, len(n._union_)):
        return False
    for a, b in zip(o._union_, n._union_, strict=True):
        table_a = (a.kind, a.required, a.consts, a.declared, a.hooked, a.tag_value)
        table_b = (b.kind, b.required, b.consts, b.declared, b.hooked, b.tag_value)
        if table_a != table_b or not _same_info(a.type, b.type, seen):
            return False
    return True


def _same_info(o: Any, n: Any, seen: set[tuple[Any, Any]]) -> bool:
    try:
        return _same(mi.type_info(o), mi.type_info(n), seen)
    except (TypeError, ValueError):
        return False
