"""The JSON shapes of the MCP schema beyond a plain msgspec Struct, and how what a peer sends is read
into them (the codec over them is `mcpbind.wire`, which re-exports the names generated code uses).

* **Open objects** (`OpenObject`): JSON objects that declare some members and admit any other, such as
  every `_meta` and the base `Result`. A Struct would drop the undeclared members, so an open object is a
  `dict` subclass: every member survives a round trip, declared members are validated and converted on
  decode, and read through typed properties.
* **Dispatched unions** (`UnionDispatch`): unions whose members share no required constant on one field
  (text vs blob resource contents, the enum-schema family, JSON-RPC envelopes...). msgspec cannot tell
  them apart, so the generator emits, per union, a table of the keys and constants that identify each
  member, and `UnionDispatch` picks the member before converting into it.
* **Open unions** (`open_union`, `UnionDispatch._tag_`): a member of a kind the revision does not know
  becomes an `Unknown`, kept exactly as sent (`tolerant`, the error path of a liberal decode).

Both reach msgspec through a decode hook: `dec_hook` reading a peer's message (liberal where a union is
open), `build_hook` building one to send (strict).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import UnionType
from typing import Any, ClassVar, Final, TypeVar, Union, cast, get_args, get_origin

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "DispatchMeta",
    "Member",
    "OpenObject",
    "UnionDispatch",
    "Unknown",
    "build_hook",
    "dec_hook",
    "hook_for",
    "hook_readers",
    "open_union",
    "reaches_open",
    "read_union",
    "tolerant",
]

T = TypeVar("T")


class OpenObject(dict[str, Any]):
    """A JSON object with declared, typed members and room for any other member.

    Subclasses are generated: `_fields_` is a Struct of the declared members (used to validate and
    convert them on decode), `_members_` maps Python names to wire names, and each declared member has
    a typed read-only property. Undeclared members stay in the dict as decoded.

    Where every declared member is a plain JSON value (strings, numbers, constants, free-form maps),
    the generator also emits `_simple_` (wire name -> accepted Python types and allowed values),
    `_required_` and `_defaults_`, and decoding checks those directly instead of converting into
    `_fields_`: the same rules, without a second pass over the object. `_converted_` lists the members
    whose decoded value differs from the raw JSON (nested Structs), the only ones written back.

    Where the members are converted into `_fields_` without the hook (every `_meta` of 2026-07-28),
    the generator writes `_from_wire` out for the class, with these tables inlined; it falls back to
    this general path for anything it does not accept, so errors read the same.
    """

    __slots__ = ()
    _fields_: ClassVar[type[msgspec.Struct]]
    _members_: ClassVar[tuple[tuple[str, str], ...]] = ()
    _converted_: ClassVar[tuple[tuple[str, str], ...]] = ()
    _hook_: ClassVar[bool] = True
    _simple_: ClassVar[dict[str, tuple[tuple[type, ...] | None, tuple[Any, ...] | None]] | None] = None
    _required_: ClassVar[tuple[str, ...]] = ()
    _defaults_: ClassVar[tuple[tuple[str, Any], ...]] = ()

    @classmethod
    def _from_wire(cls, obj: object, liberal: bool = True) -> OpenObject:
        if type(obj) is cls:  # already decoded and checked (a server's constant `_meta`)
            return obj
        if type(obj) is not dict:
            raise TypeError("Expected `object`, got `" + _json_kind(obj) + "`")
        raw = obj  # a dict: `type(obj) is dict` narrows it, with no call on the hot path (`cast`)
        simple = cls._simple_
        if simple is not None:
            for key in cls._required_:
                if key not in raw:
                    raise ValueError(f"Object missing required field `{key}`")
            for key, (types, allowed) in simple.items():
                if key in raw:
                    value = raw[key]
                    if (types is not None and type(value) not in types) or (
                        allowed is not None and value not in allowed
                    ):
                        raise ValueError(_simple_error(key, value, types, allowed))
            inst = _new_dict(cls)
            inst |= raw
            for key, default in cls._defaults_:
                if key not in raw:
                    inst[key] = default
            return inst
        try:
            if cls._hook_:
                fields = _convert(raw, cls._fields_, dec_hook=dec_hook if liberal else build_hook)
            else:
                fields = _convert(raw, cls._fields_)
        except msgspec.ValidationError as exc:
            raise ValueError(_nested(str(exc))) from None
        inst = _new_dict(cls)
        inst |= raw
        for py, wire in cls._converted_:
            value = getattr(fields, py)
            if value is not UNSET:
                inst[wire] = value
        for key, default in cls._defaults_:
            if key not in raw:
                inst[key] = default
        return inst


_new_dict: Final = dict.__new__
_update: Final = dict.update


class Unknown(dict[str, Any]):
    """A member of an open union of a kind this revision does not know: a later revision's (or an
    extension's) content block or result, e.g. `{"type": "resource_link", ...}` read under 2024-11-05 or
    `{"resultType": "task", ...}`. Every member is kept as sent, in order, and re-encodes as sent; the
    union's tag (`type`, `resultType`) says what it is. A content block becomes one only when read from a
    peer: `convert`, which builds what we send, refuses it."""

    __slots__ = ()

    @classmethod
    def _of(cls, obj: dict[str, Any], tag: str) -> Unknown:
        if type(obj.get(tag)) is not str:
            raise ValueError(f"Expected `str`, got `{_json_kind(obj.get(tag))}` (at `{tag}`)")
        inst = _new_dict(cls)
        _update(inst, obj)
        return inst


_open: dict[frozenset[type], str] = {}
"""Open unions msgspec decodes natively: their Struct members -> the tag that selects one."""


def open_union(tag: str, union: T) -> T:
    """Mark `union`, a union of Structs tagged by `tag` that msgspec decodes natively (content blocks),
    open: read from a peer, an object whose tag names no member becomes an `Unknown`. Returns `union`
    itself, so that decoding a message that holds only known members takes msgspec's native path; the
    tolerant reading runs only once that has failed."""
    _open[frozenset(get_args(union))] = tag
    return union


_KINDS: Final = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    dict: "object",
    list: "array",
    type(None): "null",
}


def _simple_error(
    key: str, value: Any, types: tuple[type, ...] | None, allowed: tuple[Any, ...] | None
) -> str:
    if types is not None and type(value) not in types:
        names = " | ".join(_KINDS.get(t, t.__name__) for t in types)
        return f"Expected `{names}`, got `{_json_kind(value)}` (at `{key}`)"
    return f"Invalid enum value {value!r} (at `{key}`)"


class Member(msgspec.Struct, frozen=True):
    """How to recognise one member of a dispatched union in its decoded JSON form."""

    type: Any
    """The member's type, as msgspec decodes it."""
    kind: str = "object"
    """The JSON kind the member takes: object, array, string, number, boolean or null."""
    required: frozenset[str] = frozenset()
    """Keys every instance has."""
    consts: tuple[tuple[str, Any, bool], ...] = ()
    """(key, allowed values, required) for members whose value is fixed by the schema."""
    declared: frozenset[str] = frozenset()
    """Every key the member declares."""
    hooked: bool = False
    """Whether decoding the member reaches open objects or dispatched unions (needs the dec_hook)."""
    tag_value: Any = None
    """In a union selected by a tag (`UnionDispatch._tag_`): the tag's value that selects this member."""


class DispatchMeta(type):
    # msgspec checks that a dec_hook returns an instance of the annotated type: a dispatched union's
    # instances are its members' instances. It asks once per union in every message, and what the hook
    # returns is of a member's exact type: one set lookup, before the walk over every member's MRO.
    def __instancecheck__(cls, obj: object) -> bool:
        return type(obj) in cls._exact_ or isinstance(obj, cls._types_)  # type: ignore[attr-defined]


class UnionDispatch(metaclass=DispatchMeta):
    """Decodes a union that msgspec cannot discriminate.

    An open union selected by one member's value (a method's results, by `resultType`) sets `_tag_`:
    that value alone picks the member (`_absent_` stands for it when it is absent), and a value no member
    takes is an `Unknown` (the schema admits any string there).

    Any other union is decoded by the keys and constants of its members. A member is a candidate when
    the value is of its JSON kind, carries every key the member requires, and every constant the member
    fixes holds. Candidates are tried in order: most constants matched, then most declared keys present,
    then the schema's order; the first that decodes wins. With no candidate, the closest member is
    decoded anyway so that the error names what is wrong.
    """

    __slots__ = ()
    _union_: ClassVar[tuple[Member, ...]] = ()
    _types_: ClassVar[tuple[type, ...]] = ()
    _exact_: ClassVar[frozenset[type]] = frozenset()
    _tag_: ClassVar[str | None] = None
    _absent_: ClassVar[Any] = UNSET
    """The tag's value when the tag is absent; UNSET when it must be present."""

    def __init_subclass__(cls) -> None:
        cls._types_ = tuple(getattr(m.type, "__origin__", m.type) for m in cls._union_)
        if cls._tag_ is not None:
            cls._types_ += (Unknown,)
            # Chosen once per class rather than per message: the key dispatch pays nothing for it.
            setattr(cls, "_from_wire", cls._from_tag)  # noqa: B010
        cls._exact_ = frozenset(cls._types_)
        cls._by_tag_ = {m.tag_value: m for m in cls._union_} if cls._tag_ is not None else {}
        # The choice depends only on the keys present and the values at constant keys: remember it.
        cls._const_keys_ = tuple(sorted({k for m in cls._union_ for k, _, _ in m.consts}))
        cls._memo_ = {}
        cls._key_, cls._by_key_ = _deciding_key(cls._union_)
        # Read together once per message (a class attribute through this metaclass is no cheap read).
        cls._plan_ = (cls._by_key_, cls._key_, tuple(k for k in cls._const_keys_ if k != cls._key_))

    _by_tag_: ClassVar[dict[Any, Member]] = {}
    _const_keys_: ClassVar[tuple[str, ...]] = ()
    _memo_: ClassVar[dict[Any, tuple[tuple[bool, Member], ...]]] = {}
    _key_: ClassVar[str] = ""
    """A constant every member fixes, whose value (or absence, `_ABSENT`) alone names the member for
    the values in `_by_key_`: those take one look and one conversion, no ranking."""
    _by_key_: ClassVar[dict[Any, Member]] = {}
    _plan_: ClassVar[tuple[dict[Any, Member], str, tuple[str, ...]]] = ({}, "", ())
    """`_by_key_`, `_key_`, and the other constant keys (the memo's key holds their values)."""

    @classmethod
    def _from_tag(cls, obj: object, liberal: bool = True) -> Any:
        """`_from_wire` of a union selected by `_tag_` (`__init_subclass__` puts it in place)."""
        if type(obj) is not dict:
            raise TypeError(f"Expected `object`, got `{_json_kind(obj)}`")
        tag = cast("str", cls._tag_)
        try:
            member = cls._by_tag_.get(obj.get(tag, cls._absent_))
        except TypeError:  # an unhashable tag: no member's
            member = None
        if member is not None:
            return _read(obj, member, liberal)
        if tag not in obj:
            raise ValueError(f"Object missing required field `{tag}`")
        # Valid in this revision too (schema.ts: `resultType: "complete" | "input_required" | string`),
        # so kept whichever way it goes: a result of a kind only the peers know (an extension's).
        return Unknown._of(obj, tag)

    @classmethod
    def _from_wire(cls, obj: object, liberal: bool = True) -> Any:
        key: Any = None
        if type(obj) is dict:
            by_key, deciding, others = cls._plan_
            value = obj.get(deciding, _ABSENT)
            try:  # `_key_` is "" where no key decides: no member then
                member = by_key.get(value)
            except TypeError:  # an unhashable value at the key: no member's
                member = None
            if member is not None:
                # Named outright: read as that member (written out here, one call less per union),
                # unless it lacks a key the member requires or does not convert; the ranking then
                # decides, and says what is wrong.
                for required in member.required:
                    if required not in obj:
                        break
                else:
                    try:
                        if member.hooked:
                            return _convert(obj, member.type, dec_hook=dec_hook if liberal else build_hook)
                        return _convert(obj, member.type)
                    except msgspec.ValidationError:
                        pass
            try:
                # The choice depends on the keys present and the values at constant keys. The keys
                # in their order stand for the set (cheaper to make and hash than a frozenset); one
                # flat tuple, written out for the usual one other constant key or none.
                if not others:
                    key = (tuple(obj), value)
                elif len(others) == 1:
                    key = (tuple(obj), value, obj.get(others[0]))
                else:
                    key = (tuple(obj), value, *map(obj.get, others))
                ranked = cls._memo_.get(key)
            except TypeError:  # an unhashable value at a constant key: no memo for this one
                key = ranked = None
            if ranked is not None:
                candidate_ok, member = ranked[0]
                if candidate_ok:  # the usual: the first candidate fits (written out, no loop)
                    try:
                        if member.hooked:
                            return _convert(obj, member.type, dec_hook=dec_hook if liberal else build_hook)
                        return _convert(obj, member.type)
                    except msgspec.ValidationError as exc:
                        # Same shape, different depths (the enum-schema family): down the list,
                        # from the next one unless this one is to be read tolerantly.
                        if not (liberal and _reaches_open(member.type)):
                            return _first_fit(cls, obj, ranked, liberal, 1, exc)
                return _first_fit(cls, obj, ranked, liberal)
        ranked = _ranking(cls, obj)
        if key is not None and len(cls._memo_) < _MEMO_LIMIT:
            # The ranking, not the member that fits: the ranking depends on nothing but the key (so
            # remembering it is exact), while which member fits depends on values deeper down.
            cls._memo_[key] = ranked
        return _first_fit(cls, obj, ranked, liberal)


def _ranking(cls: type[UnionDispatch], obj: object) -> tuple[tuple[bool, Member], ...]:
    """The members of `cls` of `obj`'s JSON kind in the order to try them, each with whether it is a
    candidate: candidates first, then most constants matched, then most declared keys present, then the
    schema's order."""
    kind = _json_kind(obj)
    ranked: list[tuple[tuple[int, int, int], int, Member]] = []
    for index, candidate in enumerate(cls._union_):
        if candidate.kind == kind:
            score = _score(candidate, obj) if kind == "object" else (1, 0, 0)
            ranked.append((score, -index, candidate))
    if not ranked:
        names = ", ".join(_type_name(m.type) for m in cls._union_)
        raise TypeError(f"Expected one of {names}, got `{kind}`")
    ranked.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return tuple((score[0] == 1, candidate) for score, _, candidate in ranked)


def _first_fit(
    cls: type[UnionDispatch],
    obj: object,
    ranked: tuple[tuple[bool, Member], ...],
    liberal: bool,
    start: int = 0,
    first_error: msgspec.ValidationError | None = None,
) -> Any:
    """`obj` as the first member of `ranked` it converts into, or the best one's error (`start` and
    `first_error`: where a caller has tried the first ones already, and what the first said)."""
    hook = dec_hook if liberal else build_hook
    for candidate_ok, candidate in ranked[start:]:
        if first_error is not None and not candidate_ok:
            break
        try:
            value = _convert(obj, candidate.type, dec_hook=hook)
        except msgspec.ValidationError as exc:
            # Members alike at the top level (the enum-schema family) differ deeper down: try
            # the next candidate, and report the best one's error if none fits.
            first_error = first_error or exc
            if liberal and candidate_ok and _reaches_open(candidate.type):
                try:  # unless what fails is a member of an open union (a content block)
                    value = tolerant(obj, candidate.type)
                except msgspec.ValidationError:
                    continue
                return value
            continue
        if (
            not candidate_ok
            and isinstance(obj, dict)
            and any(req and k not in obj for k, _, req in candidate.consts)
        ):
            # It decodes only thanks to a default where the key that selects it is absent (a
            # result without `resultType` is "complete", never an InputRequiredResult).
            continue
        return value
    if first_error is None:
        names = ", ".join(_type_name(m.type) for m in cls._union_)
        raise ValueError(f"Expected one of {names}: the object lacks the keys that select each")
    raise ValueError(_nested(str(first_error))) from None


read_union: Final[Callable[[type[UnionDispatch], object, bool], Any]] = vars(UnionDispatch)[
    "_from_wire"
].__func__
"""`UnionDispatch._from_wire`, the general path, as a plain function: what a union's written-out
`_from_wire` falls back to (no `super()` object and bound method made per call)."""

_MEMO_LIMIT: Final = 4096
_ABSENT: Final = object()


def _deciding_key(union: tuple[Member, ...]) -> tuple[str, dict[Any, Member]]:
    """A constant key of a union of objects whose value picks one member outright, and the values
    that do (`UnionDispatch._key_`): a value only one member allows rules out every other member, as
    does the key's absence where only one member may lack it. Values several members allow (the
    enum-schema family's `"string"`) are left to the ranking."""
    if not union or any(m.kind != "object" for m in union):
        return "", {}
    best: tuple[str, dict[Any, Member]] = ("", {})
    common = set.intersection(*({k for k, _, _ in m.consts} for m in union))
    for key in sorted(common):
        takers: dict[Any, list[Member]] = {}
        for member in union:
            for k, allowed, required in member.consts:
                if k == key:
                    for value in (*allowed, *(() if required else (_ABSENT,))):
                        takers.setdefault(value, []).append(member)
        table = {value: members[0] for value, members in takers.items() if len(members) == 1}
        if len(table) > len(best[1]):
            best = (key, table)
    return best


def _read(obj: dict[str, Any], member: Member, liberal: bool) -> Any:
    """`obj` as `member`'s type; read liberally, members of open unions in it may be of unknown kinds."""
    try:
        if member.hooked:
            return _convert(obj, member.type, dec_hook=dec_hook if liberal else build_hook)
        return _convert(obj, member.type)
    except msgspec.ValidationError as exc:
        if not liberal:
            raise ValueError(_nested(str(exc))) from None
        try:
            return tolerant(obj, member.type)
        except msgspec.ValidationError as inner:
            raise ValueError(_nested(str(inner))) from None


def tolerant(obj: Any, tp: Any, at: str = "$") -> Any:
    """`obj` read as `tp` once the strict conversion has failed: a member of an open union (`open_union`)
    whose tag no member takes becomes an `Unknown`; everything else converts as strictly as ever, or
    raises a `ValidationError` naming the path (`at`). The error path only: it walks the type member by
    member."""
    try:
        return _convert(obj, tp, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        error = exc
    args = get_args(tp)
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and type(obj) is dict:
        config = tp.__struct_config__
        if config.tag_field is None or obj.get(config.tag_field, config.tag) == config.tag:
            members = _fields(tp)
            for f in members:
                if f.required and f.encode_name not in obj:
                    raise _error(f"Object missing required field `{f.encode_name}`", at)
            return tp(
                **{
                    f.name: tolerant(obj[f.encode_name], f.type, f"{at}.{f.encode_name}")
                    for f in members
                    if f.encode_name in obj
                }
            )
    elif origin is list and type(obj) is list:
        return [tolerant(item, args[0], f"{at}[{i}]") for i, item in enumerate(obj)]
    elif origin is dict and type(obj) is dict:
        return {k: tolerant(v, args[1], f"{at}.{k}") for k, v in obj.items()}
    elif origin is Union or origin is UnionType:
        structs = [a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        tag = structs[0].__struct_config__.tag_field if structs else None
        if tag is not None and type(obj) is dict and tag in obj:
            for member in structs:
                if member.__struct_config__.tag == obj[tag]:
                    return tolerant(obj, member, at)
            if _open.get(frozenset(structs)) == tag:
                if type(obj[tag]) is not str:
                    raise _error(f"Expected `str`, got `{_json_kind(obj[tag])}`", f"{at}.{tag}")
                return Unknown._of(obj, tag)
        others = [a for a in args if a is not UnsetType and a not in structs]
        if len(others) == 1:  # `X | UnsetType`, `list[Block] | Block`: the one left decides
            return tolerant(obj, others[0], at)
    raise _error(str(error), at)


_reaches: Final[dict[Any, bool]] = {}


def _reaches_open(tp: Any) -> bool:
    # Where no open union lies below, reading tolerantly fails as the strict conversion did: skip it
    # (it walks the type member by member, at many times the cost of the conversion).
    found = _reaches.get(tp)
    if found is None:
        found = _reaches[tp] = reaches_open(tp)
    return found


_struct_fields: Final[dict[type, tuple[msgspec.structs.FieldInfo, ...]]] = {}


def _fields(tp: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    # `msgspec.structs.fields` evaluates the annotations anew on every call (~0.5 ms for an enum
    # schema): once per type. `tolerant` runs whenever a union's first candidate does not fit.
    found = _struct_fields.get(tp)
    if found is None:
        found = _struct_fields[tp] = msgspec.structs.fields(tp)
    return found


def _error(message: str, at: str) -> msgspec.ValidationError:
    head, sep, path = message.partition(" - at `$")
    path = at + (path.rstrip("`") if sep else "")
    return msgspec.ValidationError(head if path == "$" else f"{head} - at `{path}`")


def reaches_open(tp: Any, seen: set[Any] | None = None) -> bool:
    """Whether msgspec, decoding `tp` natively, reaches an open union (and so may need `tolerant`)."""
    seen = set() if seen is None else seen
    if tp in seen:
        return False
    seen.add(tp)
    args = get_args(tp)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return any(reaches_open(f.type, seen) for f in msgspec.structs.fields(tp))
    if get_origin(tp) in (Union, UnionType):
        structs = frozenset(a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct))
        if structs in _open:
            return True
    return any(reaches_open(a, seen) for a in args)


def _score(member: Member, obj: Any) -> tuple[int, int, int]:
    # (is a candidate, constants matched, declared keys present); the tuple order ranks members.
    candidate = 1
    for key in member.required:
        if key not in obj:
            candidate = 0
            break
    matched = 0
    for key, allowed, required in member.consts:
        if key in obj:
            if obj[key] in allowed:
                matched += 1
            else:
                candidate = 0
        elif required:
            candidate = 0
    present = sum(1 for key in obj if key in member.declared)
    return (candidate, matched, present)


def _json_kind(obj: object) -> str:
    if isinstance(obj, dict):
        return "object"
    if isinstance(obj, list):
        return "array"
    if isinstance(obj, str):
        return "string"
    if isinstance(obj, bool):
        return "boolean"
    if isinstance(obj, (int, float)):
        return "number"
    if obj is None:
        return "null"
    return type(obj).__name__


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", repr(tp))


def _nested(message: str) -> str:
    # msgspec appends the outer path itself; keep the inner path readable as a member path.
    head, sep, path = message.partition(" - at `$")
    if not sep:
        return message
    return f"{head} (at `{path.rstrip('`').lstrip('.')}`)"


_readers: Final[dict[Any, Any]] = {}
"""Each type's `_from_wire`, bound once: the hooks run for every open object and dispatched union of
every message, and looking the classmethod up binds a new method object each time."""

hook_readers: Final = _readers
"""The same table, read by the written-out readers that serve as a decoder's hook (`hook_for`) for a
value of another type: one missing is added by calling `dec_hook`."""


def _reader(tp: Any) -> Any:
    try:
        read = _readers[tp] = tp._from_wire
    except AttributeError:
        raise NotImplementedError(f"mcpbind cannot decode type {tp!r}") from None
    return read


def dec_hook(tp: Any, obj: Any) -> Any:
    """Reading a peer's message: liberal where a union is open."""
    # A subscript in a `try` (free until it raises) rather than `.get`: no method call per hook.
    try:
        read = _readers[tp]
    except KeyError:
        read = _reader(tp)
    return read(obj)


def hook_for(tp: Any) -> Callable[[Any, Any], Any]:
    """The decode hook for a decoder of `tp`: `dec_hook`, or where the generator chose one for the
    Struct `tp` (`_hook_reader_`: the open object or dispatched union a message holds most surely and
    most often: a request's `params._meta`, a result's `_meta`, each listed tool's `inputSchema`, each
    property of an elicitation form), that type's written-out reader. msgspec calls the hook with the
    type it meets and the value: the reader reads its own type at once (one Python call instead of
    two, about 530 instructions less) and hands any other type to that type's reader, as `dec_hook`
    would (`hook_readers`), at the same cost. The choice is made at generation time: no walk of the
    type's graph here, so a decoder made at a server's start costs nothing more."""
    if not (isinstance(tp, type) and issubclass(tp, msgspec.Struct)):
        return dec_hook
    name = tp.__dict__.get("_hook_reader_")  # (its own: not a subclass's of a generated Struct)
    if name is None:
        return dec_hook
    reader = getattr(sys.modules[tp.__module__], name)
    return cast("Callable[[Any, Any], Any]", vars(reader)["_from_wire"].__func__)


def build_hook(tp: Any, obj: Any) -> Any:
    """Building a message to send (`convert`): strict, no member of a kind the revision lacks."""
    try:
        read = _readers[tp]
    except KeyError:
        read = _reader(tp)
    return read(obj, False)


_convert: Final = msgspec.convert
