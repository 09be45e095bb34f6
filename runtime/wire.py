"""The codec every generated binding stands on: cached decoders, strict conversion, encoding.

msgspec decodes and encodes the generated Structs natively. Two shapes of the MCP schema are beyond a
plain msgspec Struct; `mcpbind.shapes` supplies them, and this module re-exports them for generated code:

* **Open objects** (`OpenObject`): JSON objects that declare some members and admit any other, such as
  every `_meta` and the base `Result`. A Struct would drop the undeclared members, so an open object is a
  `dict` subclass: every member survives a round trip, declared members are validated and converted on
  decode, and read through typed properties.
* **Dispatched unions** (`UnionDispatch`): unions whose members share no required constant on one field
  (text vs blob resource contents, the enum-schema family, JSON-RPC envelopes...). msgspec cannot tell
  them apart, so the generator emits, per union, a table of the keys and constants that identify each
  member, and `UnionDispatch` picks the member before converting into it.

Both reach msgspec through a decode hook, so generated types are decoded with `decode`/`decoder`/`convert`
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
import sys
from collections.abc import Callable
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Protocol,
    TypeVar,
    cast,
    get_args,
)

import msgspec
from msgspec import UNSET, UnsetType

from .shapes import (
    DispatchMeta,
    Member,
    OpenObject,
    UnionDispatch,
    Unknown,
    build_hook,
    dec_hook,
    hook_for,
    hook_readers,
    open_union,
    reaches_open,
    read_union,
    tolerant,
)

__all__ = [
    "Struct",
    "UNSET",
    "UnsetType",
    "OpenObject",
    "UnionDispatch",
    "Member",
    "Unknown",
    "open_union",
    "dec_hook",
    "hook_for",
    "hook_readers",
    "build_hook",
    "read_union",
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

ValidationError = msgspec.ValidationError
DecodeError = msgspec.DecodeError


class Struct(msgspec.Struct, kw_only=True, repr_omit_defaults=True):
    """Base of every generated Struct: keyword construction, unset members absent from the wire."""


Data = bytes | bytearray | memoryview | str


if TYPE_CHECKING:
    # For the type checker alone: a `typing.Protocol` class costs a server's start about 0.15M
    # instructions (tests/unit/test_imports.py).
    T_co = TypeVar("T_co", covariant=True)

    class Decoder(Protocol[T_co]):
        """What `decoder` returns: msgspec's JSON decoder, or one that reads open unions liberally."""

        def decode(self, buf: Data, /) -> T_co: ...


class _Decoder(Generic[T]):
    """msgspec's native decoder first; only when that fails, and only for a type that reaches an open
    union (a member of a kind the revision lacks may be why), the message is read again, tolerantly;
    otherwise the error stands. Nesting deeper than msgspec's stack allows is a `DecodeError` like any
    other bad input, rather than the `RecursionError` msgspec raises.

    `decode` is a plain function made per decoder, not a method: a caller reads it once and calls it
    per message, and a function is called with no bound method made and no attribute read on the
    way to msgspec (the wrapper costs a few hundred instructions less per message; the `try` itself
    costs nothing until something is raised).

    Whether the type reaches an open union is found out on the first failure, not when the decoder
    is made: that walk evaluates every annotation the type reaches a second time (msgspec has
    evaluated them for the decoder), a cost a server's first request would pay for every type."""

    __slots__ = ("decode", "general")

    decode: Callable[[Data], T]
    general: Callable[[Data], T]
    """The decode above; `decode` itself where the generator wrote a one-pass decode (`_twin_`)."""

    def __init__(self, tp: type[T]) -> None:
        # (The hook the generator chose for `tp`, if any: see `hook_for`.)
        fast = msgspec.json.Decoder(tp, dec_hook=hook_for(tp)).decode
        reaches: list[bool] = []  # empty until the first failure asks

        def decode(buf: Data, /) -> T:
            try:
                return fast(buf)
            except msgspec.ValidationError:
                if not reaches:
                    reaches.append(reaches_open(tp))
                if not reaches[0]:
                    raise
            except RecursionError:
                raise msgspec.DecodeError(TOO_DEEP) from None
            try:
                return cast("T", tolerant(msgspec.json.decode(buf), tp))
            except RecursionError:
                raise msgspec.DecodeError(TOO_DEEP) from None

        self.decode = self.general = decode
        # A message the generator decodes in one pass (`_twin_`: `codegen.twin`), falling back to this.
        name = tp.__dict__.get("_twin_") if isinstance(tp, type) else None
        if name is not None:
            self.decode = getattr(sys.modules[tp.__module__], name)(decode)


TOO_DEEP: Final = "JSON nested too deeply"
"""What a decoder says of input nested deeper than its stack allows."""


def decode_failure(exc: Exception, data: bytes | memoryview) -> str:
    """What is wrong with the JSON text `data` that a decoder refused with `exc`: its own message, but
    where that misleads. When a \\uD800-\\uDBFF escape is not followed by the low surrogate that would
    complete it, msgspec says the text "was truncated" (near its end) or that an escape ended
    unexpectedly: the lone surrogate where the decoder stopped is named instead. (Error path only: the
    text is scanned again.)"""
    detail = TOO_DEEP if isinstance(exc, RecursionError) else str(exc)
    truncated = detail == "Input data was truncated"
    if not truncated and "unexpected end of" not in detail:
        return detail
    import re  # (an error path: no import for it at start-up)

    at = re.search(r"\(byte (\d+)\)$", detail)
    text = bytes(data)
    # Escaped backslashes are taken in pairs first, so that `\\ud800` (text, not an escape) is passed.
    escapes = rb"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    for found in re.finditer(escapes, text):
        if found.group()[1:2] != b"u":
            continue
        # Only the one where the decoder stopped: at the end of the text, or at the byte it names.
        if truncated:
            stopped = len(text) - found.end() < 6
        else:
            stopped = at is not None and 0 <= int(at[1]) - found.start() <= 12
        if stopped:
            return (
                f"JSON is malformed: the escape {found.group().decode()} at byte {found.start()} is a lone"
                " UTF-16 high surrogate (no low surrogate escape follows it), not a Unicode character"
            )
    return detail


_decoders: dict[Any, Decoder[Any]] = {}
_encoder: Final = msgspec.json.Encoder()


def decoder(tp: type[T]) -> Decoder[T]:
    """A cached JSON decoder for a generated type (or any type msgspec understands), for what a peer
    sends: liberal where a union is open (see `Unknown`). Bad input of any kind, nesting too deep
    included, raises `msgspec.DecodeError` (`ValidationError` for the wrong shape)."""
    dec = _decoders.get(tp)
    if dec is None:
        dec = _Decoder(tp)
        _decoders[tp] = dec
    return dec


_decode_of: Final[dict[Any, Any]] = {}
"""Each type's decoding function (`decoder(tp).decode`), for `decode`: one subscript per message, with
no `decoder` frame, `.get` call or attribute read on the way (about 600 instructions less a call)."""


def decode(data: Data, tp: type[T]) -> T:
    """Decode JSON into a generated type, validating it; raises `ValidationError` naming the path."""
    try:
        read: Callable[[Data], T] = _decode_of[tp]
    except KeyError:
        read = _decode_of[tp] = decoder(tp).decode
    return read(data)


def convert(obj: Any, tp: type[T]) -> T:
    """Convert decoded JSON (dicts, lists, scalars) into a generated type, validating it: to build a
    message to send, so strictly (a member of an open union must be one the revision has)."""
    if type(tp) is DispatchMeta:  # type: ignore[comparison-overlap]
        # A dispatched union at the top (a method's possible results): pick the member here. Through
        # msgspec's hook the object would be converted twice over, at four times the cost.
        union = cast("type[UnionDispatch]", tp)
        try:
            return cast("T", union._from_wire(obj, False))
        except (TypeError, ValueError) as exc:
            raise msgspec.ValidationError(str(exc)) from None
    return msgspec.convert(obj, tp, dec_hook=build_hook)


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
        config = tp.__struct_config__
        # What decides how it reads and writes is kept: its tag (a tagged union's member stays one,
        # its tag checked on decoding and written on encoding), unknown members refused or not.
        lean = _lean[tp] = msgspec.defstruct(
            tp.__name__,
            fields,
            kw_only=True,
            rename={f.name: f.encode_name for f in members},
            module=tp.__module__,
            tag=config.tag,
            tag_field=config.tag_field,
            forbid_unknown_fields=config.forbid_unknown_fields,
            omit_defaults=config.omit_defaults,
            array_like=config.array_like,
            repr_omit_defaults=config.repr_omit_defaults,
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
