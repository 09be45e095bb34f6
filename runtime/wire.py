"""The wire layer every generated binding stands on: absent fields, open objects, union dispatch, codec.

msgspec decodes and encodes the generated Structs natively. Two shapes of the MCP schema are beyond a
plain msgspec Struct, and this module supplies them:

* **Open objects** (`OpenObject`): JSON objects that declare some members and admit any other, such as
  every `_meta` and the base `Result`. A Struct would drop the undeclared members, so an open object is a
  `dict` subclass: every member survives a round trip, declared members are validated and converted on
  decode, and read through typed properties.
* **Dispatched unions** (`UnionDispatch`): unions whose members share no required constant on one field
  (text vs blob resource contents, the enum-schema family, JSON-RPC envelopes...). msgspec cannot tell
  them apart, so the generator emits, per union, a table of the keys and constants that identify each
  member, and `UnionDispatch` picks the member before converting into it.

Both reach msgspec through `dec_hook`, so generated types are decoded with `decode`/`decoder`/`convert`
from this module (plain `msgspec.json.decode` works for every type that contains neither).

Some unions grow with the protocol: content blocks (by `type`) and, from 2026-07-28, a method's results
(by `resultType`). The generator marks them open (`open_union`, or `UnionDispatch._tag_`). A member of a
kind the revision does not know becomes an `Unknown`, kept exactly as sent. For content blocks only when
reading what a peer sent (`decode`, `decoder`): the revision's schema has no such block, so building what
we send (`convert`) refuses one. A result's `resultType` is any string in the schema: kept either way.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from types import UnionType
from typing import (
    Any,
    ClassVar,
    Final,
    Generic,
    Protocol,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
)

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "Struct",
    "UNSET",
    "UnsetType",
    "OpenObject",
    "UnionDispatch",
    "Member",
    "Unknown",
    "open_union",
    "decode",
    "decoder",
    "convert",
    "encode",
    "encoder",
    "to_builtins",
    "ValidationError",
    "DecodeError",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

ValidationError = msgspec.ValidationError
DecodeError = msgspec.DecodeError


class Struct(msgspec.Struct, kw_only=True, repr_omit_defaults=True):
    """Base of every generated Struct: keyword construction, unset members absent from the wire."""


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
        raw = cast("dict[str, Any]", obj)
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
            _update(inst, raw)
            for key, default in cls._defaults_:
                if key not in raw:
                    inst[key] = default
            return inst
        try:
            if cls._hook_:
                fields = _convert(raw, cls._fields_, dec_hook=_dec_hook if liberal else _build_hook)
            else:
                fields = _convert(raw, cls._fields_)
        except msgspec.ValidationError as exc:
            raise ValueError(_nested(str(exc))) from None
        inst = _new_dict(cls)
        _update(inst, raw)
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


class _DispatchMeta(type):
    # msgspec checks that a dec_hook returns an instance of the annotated type: a dispatched union's
    # instances are its members' instances.
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls._types_)  # type: ignore[attr-defined]


class UnionDispatch(metaclass=_DispatchMeta):
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
    _tag_: ClassVar[str | None] = None
    _absent_: ClassVar[Any] = UNSET
    """The tag's value when the tag is absent; UNSET when it must be present."""

    def __init_subclass__(cls) -> None:
        cls._types_ = tuple(getattr(m.type, "__origin__", m.type) for m in cls._union_)
        if cls._tag_ is not None:
            cls._types_ += (Unknown,)
            # Chosen once per class rather than per message: the key dispatch pays nothing for it.
            setattr(cls, "_from_wire", cls._from_tag)  # noqa: B010
        cls._by_tag_ = {m.tag_value: m for m in cls._union_} if cls._tag_ is not None else {}
        # The choice depends only on the keys present and the values at constant keys: remember it.
        cls._const_keys_ = tuple(sorted({k for m in cls._union_ for k, _, _ in m.consts}))
        cls._memo_ = {}

    _by_tag_: ClassVar[dict[Any, Member]] = {}
    _const_keys_: ClassVar[tuple[str, ...]] = ()
    _memo_: ClassVar[dict[Any, Member]] = {}

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
            try:
                key = (frozenset(obj), tuple([obj.get(k) for k in cls._const_keys_]))
                member = cls._memo_.get(key)
            except TypeError:  # an unhashable value at a constant key: no memo for this one
                key = member = None
            if member is not None:
                try:
                    if member.hooked:
                        return _convert(obj, member.type, dec_hook=_dec_hook if liberal else _build_hook)
                    return _convert(obj, member.type)
                except msgspec.ValidationError:
                    pass  # same shape, different depths (the enum-schema family): rank again
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
        first_error: msgspec.ValidationError | None = None
        hook = _dec_hook if liberal else _build_hook
        for score, _, candidate in ranked:
            if first_error is not None and not score[0]:
                break
            try:
                value = _convert(obj, candidate.type, dec_hook=hook)
            except msgspec.ValidationError as exc:
                # Members alike at the top level (the enum-schema family) differ deeper down: try
                # the next candidate, and report the best one's error if none fits.
                first_error = first_error or exc
                if liberal and score[0]:
                    try:  # unless what fails is a member of an open union (a content block)
                        value = _tolerant(obj, candidate.type)
                    except msgspec.ValidationError:
                        continue
                    return value
                continue
            if (
                not score[0]
                and isinstance(obj, dict)
                and any(req and k not in obj for k, _, req in candidate.consts)
            ):
                # It decodes only thanks to a default where the key that selects it is absent (a
                # result without `resultType` is "complete", never an InputRequiredResult).
                continue
            if key is not None and len(cls._memo_) < _MEMO_LIMIT:
                cls._memo_[key] = candidate
            return value
        if first_error is None:
            names = ", ".join(_type_name(m.type) for m in cls._union_)
            raise ValueError(f"Expected one of {names}: the object lacks the keys that select each")
        raise ValueError(_nested(str(first_error))) from None


_MEMO_LIMIT: Final = 4096


def _read(obj: dict[str, Any], member: Member, liberal: bool) -> Any:
    """`obj` as `member`'s type; read liberally, members of open unions in it may be of unknown kinds."""
    try:
        if member.hooked:
            return _convert(obj, member.type, dec_hook=_dec_hook if liberal else _build_hook)
        return _convert(obj, member.type)
    except msgspec.ValidationError as exc:
        if not liberal:
            raise ValueError(_nested(str(exc))) from None
        try:
            return _tolerant(obj, member.type)
        except msgspec.ValidationError as inner:
            raise ValueError(_nested(str(inner))) from None


def _tolerant(obj: Any, tp: Any, at: str = "$") -> Any:
    """`obj` read as `tp` once the strict conversion has failed: a member of an open union (`open_union`)
    whose tag no member takes becomes an `Unknown`; everything else converts as strictly as ever, or
    raises a `ValidationError` naming the path (`at`). The error path only: it walks the type member by
    member."""
    try:
        return _convert(obj, tp, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        error = exc
    args = get_args(tp)
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and type(obj) is dict:
        config = tp.__struct_config__
        if config.tag_field is None or obj.get(config.tag_field, config.tag) == config.tag:
            members = msgspec.structs.fields(tp)
            for f in members:
                if f.required and f.encode_name not in obj:
                    raise _error(f"Object missing required field `{f.encode_name}`", at)
            return tp(
                **{
                    f.name: _tolerant(obj[f.encode_name], f.type, f"{at}.{f.encode_name}")
                    for f in members
                    if f.encode_name in obj
                }
            )
    elif origin is list and type(obj) is list:
        return [_tolerant(item, args[0], f"{at}[{i}]") for i, item in enumerate(obj)]
    elif origin is dict and type(obj) is dict:
        return {k: _tolerant(v, args[1], f"{at}.{k}") for k, v in obj.items()}
    elif origin is Union or origin is UnionType:
        structs = [a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        tag = structs[0].__struct_config__.tag_field if structs else None
        if tag is not None and type(obj) is dict and tag in obj:
            for member in structs:
                if member.__struct_config__.tag == obj[tag]:
                    return _tolerant(obj, member, at)
            if _open.get(frozenset(structs)) == tag:
                if type(obj[tag]) is not str:
                    raise _error(f"Expected `str`, got `{_json_kind(obj[tag])}`", f"{at}.{tag}")
                return Unknown._of(obj, tag)
        others = [a for a in args if a is not UnsetType and a not in structs]
        if len(others) == 1:  # `X | UnsetType`, `list[Block] | Block`: the one left decides
            return _tolerant(obj, others[0], at)
    raise _error(str(error), at)


def _error(message: str, at: str) -> msgspec.ValidationError:
    head, sep, path = message.partition(" - at `$")
    path = at + (path.rstrip("`") if sep else "")
    return msgspec.ValidationError(head if path == "$" else f"{head} - at `{path}`")


def _reaches_open(tp: Any, seen: set[Any] | None = None) -> bool:
    """Whether msgspec, decoding `tp` natively, reaches an open union (and so may need `_tolerant`)."""
    seen = set() if seen is None else seen
    if tp in seen:
        return False
    seen.add(tp)
    args = get_args(tp)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return any(_reaches_open(f.type, seen) for f in msgspec.structs.fields(tp))
    if get_origin(tp) in (Union, UnionType):
        structs = frozenset(a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct))
        if structs in _open:
            return True
    return any(_reaches_open(a, seen) for a in args)


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


def _dec_hook(tp: Any, obj: Any) -> Any:
    """Reading a peer's message: liberal where a union is open."""
    try:
        from_wire = tp._from_wire
    except AttributeError:
        raise NotImplementedError(f"mcpbind cannot decode type {tp!r}") from None
    return from_wire(obj)


def _build_hook(tp: Any, obj: Any) -> Any:
    """Building a message to send (`convert`): strict, no member of a kind the revision lacks."""
    try:
        from_wire = tp._from_wire
    except AttributeError:
        raise NotImplementedError(f"mcpbind cannot decode type {tp!r}") from None
    return from_wire(obj, False)


_convert: Final = msgspec.convert


Data = bytes | bytearray | memoryview | str


class Decoder(Protocol[T_co]):
    """What `decoder` returns: msgspec's JSON decoder, or one that reads open unions liberally."""

    def decode(self, buf: Data, /) -> T_co: ...


class _LiberalDecoder(Generic[T]):
    """msgspec's native decoder first; only when that fails (a member of an open union of a kind the
    revision lacks, or invalid input) the message is read again, tolerantly, or the error stands."""

    __slots__ = ("_fast", "_tp")

    def __init__(self, tp: type[T]) -> None:
        self._fast = msgspec.json.Decoder(tp, dec_hook=_dec_hook).decode
        self._tp = tp

    def decode(self, buf: Data, /) -> T:
        try:
            return self._fast(buf)
        except msgspec.ValidationError:
            pass
        except RecursionError:
            raise msgspec.DecodeError(TOO_DEEP) from None
        try:
            return cast("T", _tolerant(msgspec.json.decode(buf), self._tp))
        except RecursionError:
            raise msgspec.DecodeError(TOO_DEEP) from None


class _GuardedDecoder(Generic[T]):
    """msgspec's decoder, with nesting deeper than its stack allows refused as a `DecodeError` like any
    other bad input, rather than the `RecursionError` msgspec raises."""

    __slots__ = ("_decode",)

    def __init__(self, tp: type[T]) -> None:
        self._decode = msgspec.json.Decoder(tp, dec_hook=_dec_hook).decode

    def decode(self, buf: Data, /) -> T:
        try:
            return self._decode(buf)
        except RecursionError:
            raise msgspec.DecodeError(TOO_DEEP) from None


TOO_DEEP: Final = "JSON nested too deeply"
"""What a decoder says of input nested deeper than its stack allows."""

_decoders: dict[Any, Decoder[Any]] = {}
_encoder: Final = msgspec.json.Encoder()


def decoder(tp: type[T]) -> Decoder[T]:
    """A cached JSON decoder for a generated type (or any type msgspec understands), for what a peer
    sends: liberal where a union is open (see `Unknown`). Bad input of any kind, nesting too deep
    included, raises `msgspec.DecodeError` (`ValidationError` for the wrong shape)."""
    dec = _decoders.get(tp)
    if dec is None:
        dec = _LiberalDecoder(tp) if _reaches_open(tp) else _GuardedDecoder(tp)
        _decoders[tp] = dec
    return dec


def decode(data: Data, tp: type[T]) -> T:
    """Decode JSON into a generated type, validating it; raises `ValidationError` naming the path."""
    return decoder(tp).decode(data)


def convert(obj: Any, tp: type[T]) -> T:
    """Convert decoded JSON (dicts, lists, scalars) into a generated type, validating it: to build a
    message to send, so strictly (a member of an open union must be one the revision has)."""
    if type(tp) is _DispatchMeta:  # type: ignore[comparison-overlap]
        # A dispatched union at the top (a method's possible results): pick the member here. Through
        # msgspec's hook the object would be converted twice over, at four times the cost.
        union = cast("type[UnionDispatch]", tp)
        try:
            return cast("T", union._from_wire(obj, False))
        except (TypeError, ValueError) as exc:
            raise msgspec.ValidationError(str(exc)) from None
    return msgspec.convert(obj, tp, dec_hook=_build_hook)


_lean: dict[Any, Any] = {}


def members_only(tp: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """`tp`, a generated Struct, with each member whose type is an open object decoded into that
    object's declared members alone (its `_fields_`). Decoding validates by exactly the same rules, at
    a quarter of the cost, but keeps no undeclared member: for a reader that needs to know the message
    is valid, not what an open object holds (a tool that never sees the request's `_meta`)."""
    lean = _lean.get(tp)
    if lean is None:
        members = msgspec.structs.fields(tp)
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for f in members:
            default = f.default
            if f.default_factory is not msgspec.NODEFAULT:
                default = msgspec.field(default_factory=f.default_factory)
            declared = _declared(f.type)
            fields.append((f.name, declared) if default is msgspec.NODEFAULT else (f.name, declared, default))
        lean = _lean[tp] = msgspec.defstruct(
            tp.__name__,
            fields,
            kw_only=True,
            rename={f.name: f.encode_name for f in members},
            module=tp.__module__,
        )
    return lean


def _declared(tp: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, OpenObject):
        return tp._fields_
    args = get_args(tp)
    if args and any(isinstance(a, type) and issubclass(a, OpenObject) for a in args):
        return functools.reduce(operator.or_, [_declared(a) for a in args])
    return tp


def encoder() -> msgspec.json.Encoder:
    """The shared JSON encoder (absent fields are omitted, constants always emitted)."""
    return _encoder


encode: Final[Callable[[Any], bytes]] = _encoder.encode
"""Encode a generated value (or any JSON-able value) to JSON bytes."""


def to_builtins(obj: Any) -> Any:
    """A generated value as plain dicts, lists and scalars, exactly as it goes on the wire."""
    return msgspec.to_builtins(obj)
