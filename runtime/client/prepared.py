"""What a request by name needs, worked out once per revision and method rather than once per call.

`Client.request` finds the method's spec, makes its result decoder and, on a stateless revision,
converts the `_meta` every request carries: per call, that was much of the client's own cost.
`prepare` keeps the first two per (revision, method, result type), with a converter of the params;
`MetaMemo` keeps the converted `_meta`, and its JSON, while what it is made of stays the same (the
callbacks, client info and log level may change between calls: the client compares them, see
`Client._call`).

A result the conveniences give as the newest revision's type (`calls`) is decoded by the negotiated
revision's type first (the check that the answer is valid in the revision the server speaks), then
read from that result's wire form into the newest revision's type, in the decoder itself: what the
negotiated revision does not have (a member an older server sends anyway) stays out, as it would
had the newest type been read from the server's bytes. A result of a kind the revision does not know
(`wire.Unknown`) stays as it is, for the caller to refuse. Where the two types agree (`projection`),
the result is decoded once, as the newest type, with that way as the fallback.
"""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Callable
from types import UnionType
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, Union, get_args, get_origin

import msgspec

from .. import wire
from ..methods import RequestMethod
from ..protocol import revisions
from ..protocol.endpoint import ResultDecoder
from ..protocol.tasks import extension_method
from ..shapes import DispatchMeta, hook_for

if TYPE_CHECKING:
    from .projection import Check

__all__ = ["ONE_PASS", "PREPARED", "MetaMemo", "Prepared", "answer_reader", "loosen", "prepare"]

_MAX_CACHED: Final = 1024
"""Prepared requests kept (result types are the caller's choice: the cache is bounded)."""


class Prepared(NamedTuple):
    spec: RequestMethod[Any, Any]
    decode: ResultDecoder
    convert: Callable[[Any], Any]
    """The params in JSON form (with `_meta` converted, or none) as the method's params type."""
    meta_type: type | None
    """The type of the params' `_meta` when it is an open object (what `MetaMemo` converts into)."""
    meta_attr: str
    """The attribute of the params' Struct that holds `_meta` (when `meta_type` is not None)."""
    stateless: bool
    """The revision is of the stateless era (`_meta` on every request)."""
    params_struct: Any
    """The params type when it is a Struct msgspec converts into without the decode hook, else
    None: a caller may try `msgspec.convert` into it first, then `convert` (as `convert` does)."""
    loose: Any = None
    """Once the method has been sent a few times (`loosen`): the params type with its `_meta`
    optional and taken as bytes, for params given with no `_meta`: converted as they are, with no
    copy of them to add the `_meta` to, which is set afterwards as `MetaMemo`'s JSON. A subclass:
    the same members in the same order, so the same JSON, and an instance of the params type."""


_ANALYSED_AFTER: Final = 8
"""Results of one kind read the general way before `projection` is asked whether they can be read
straight: that takes milliseconds, which a client that makes a few calls never pays."""

ONE_PASS: dict[ResultDecoder, tuple[Any, Callable[[Any], bool], Callable[[Any], Any], Any]] = {}
"""Decoders whose usual result is read as one type: that type, and what must hold of a result read
as it for it to be the decoder's value (else the decoder reads the result its own way), first found
with no Python call where it can be: `quick(result) == usual` (the two last; where that is not so,
the check decides). A reader of whole answers may read the answer and its result in one pass
(`answer_reader`)."""
_NEVER: Final = object()
"""The `usual` of a check with no quick form (`id` of a result is never it)."""

_READERS: dict[ResultDecoder, Callable[[bytes], Any]] = {}

_Key = tuple[str, str, Any, str | None]
PREPARED: dict[_Key, Prepared | None] = {}
"""What `prepare` made, by its arguments (revision, method, result type, latest): a caller that looks
here first (`Client._call`, every request) has no frame for `prepare` once a request was made."""


def prepare(
    revision: str, method: str, result_type: Any = None, latest: str | None = None
) -> Prepared | None:
    """`method` of `revision` ready to send, its result decoded as `result_type` (default: the
    method's), or with `latest` as the newest revision's type of that name; None: no such method."""
    key = (revision, method, result_type, latest)
    try:
        return PREPARED[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable result type: prepared each time
        return _prepare(revision, method, result_type, latest)
    found = _prepare(revision, method, result_type, latest, key)
    if len(PREPARED) >= _MAX_CACHED:
        PREPARED.clear()
        ONE_PASS.clear()
        _READERS.clear()
    PREPARED[key] = found
    return found


def _prepare(
    revision: str, method: str, result_type: Any, latest: str | None, key: _Key | None = None
) -> Prepared | None:
    rev = revisions.revision(revision)
    spec = rev.requests.get(method) or extension_method(rev, method)
    if spec is None:
        return None
    decode: ResultDecoder = _decoder(result_type or spec.result_type)
    if latest is not None and revision != revisions.LATEST:
        newest = revisions.revision(revisions.LATEST).type(latest)
        decode = _as_latest(decode, wire.decoder(newest).decode)
        if key is not None:
            decode = _analysed_later(key, result_type or spec.result_type, newest, decode)
    params_type = spec.params_type
    meta_type = _meta_type(params_type) if params_type is not None else None
    meta_attr = (_attribute(params_type, "_meta") if meta_type is not None else None) or ""
    stateless = revisions.is_modern(revision)
    is_struct = isinstance(params_type, type) and issubclass(params_type, msgspec.Struct)
    struct = params_type if is_struct else None
    return Prepared(spec, decode, _converter(params_type), meta_type, meta_attr, stateless, struct)


_LOOSENED_AFTER: Final = 8
"""Requests of one method sent the general way before its params type is `loosen`ed: making a Struct
type costs some 0.1 ms, which a client that makes a few calls never pays."""

_sent: dict[_Key, int] = {}


def loosen(key: _Key) -> None:
    """One more request of the prepared `key` (a stateless revision's, whose params carry `_meta`) sent
    the general way: at the `_LOOSENED_AFTER`th, its `Prepared.loose` is made."""
    try:
        sent = _sent[key] = _sent.get(key, 0) + 1
    except TypeError:  # (a result type that cannot be a key: not prepared once, not loosened)
        return
    if len(_sent) >= _MAX_CACHED:
        _sent.clear()
    found = PREPARED.get(key)
    if sent < _LOOSENED_AFTER or found is None or found.params_struct is None or found.meta_attr != "meta":
        return  # (the generated params name their `_meta` member `meta`, which a caller may set)
    del _sent[key]
    meta = msgspec.field(default=msgspec.UNSET, name="_meta")
    struct = found.params_struct
    loose = msgspec.defstruct(
        struct.__name__, [(found.meta_attr, msgspec.Raw | msgspec.UnsetType, meta)], bases=(struct,)
    )
    PREPARED[key] = found._replace(loose=loose)


def _converter(tp: Any) -> Callable[[Any], Any]:
    """`wire.convert` into `tp`, by a shorter way where it can be: msgspec's convert without the
    decode hook costs half as much, and the hook is only ever asked for the open objects and
    dispatched unions in params (a caller's own `_meta`, say), where, without it, msgspec refuses."""
    full: Callable[[Any], Any] = functools.partial(wire.convert, tp=tp)
    if not isinstance(tp, type) or not issubclass(tp, msgspec.Struct):
        return full  # (a dispatched union at the top: `wire.convert` picks the member itself)

    def convert(obj: Any) -> Any:
        try:
            return msgspec.convert(obj, tp)
        except msgspec.ValidationError:
            return full(obj)  # what needs the hook, and the error of what is wrong

    return convert


def _decoder(tp: Any) -> ResultDecoder:
    """The decoder of a result of type `tp`; a union picked by its tag (a method's results on a
    stateless revision, by `resultType`) is decoded straight into the member the tag names."""
    full: ResultDecoder = wire.decoder(tp).decode
    tag = getattr(tp, "_tag_", None) if type(tp) is DispatchMeta else None
    if tag is None:
        return full
    # The union's own decoder reads the whole result into dicts, then converts them: twice over. The
    # tag alone decides the member (`UnionDispatch`), so one look at the tag and one decode suffice.
    peek = msgspec.json.Decoder(msgspec.defstruct("Tag", [(tag, Any, msgspec.UNSET)])).decode
    absent = tp._absent_
    members = {m.tag_value: wire.decoder(m.type).decode for m in tp._union_}
    # The member the tag names when absent (a final result: nearly every answer) is tried first, with
    # no look at the tag: taken if its own tag member reads as that value (as it does when absent).
    # msgspec's own decoder: a result it refuses takes the way below, and only that way reads an
    # unknown content block tolerantly (`wire.decoder`), at its own cost, not twice.
    first = tp._by_tag_[absent].type if absent in tp._by_tag_ else None
    attr = _attribute(first, tag) if first is not None else None

    def by_tag(raw: msgspec.Raw) -> Any:
        try:
            value = getattr(peek(raw), tag)
            member = members.get(absent if value is msgspec.UNSET else value)
            if member is not None:
                return member(raw)
        except (msgspec.DecodeError, TypeError, RecursionError):
            pass  # not an object, an unhashable tag, a member that does not decode...
        # ... anything but a known tag on a valid member: the union's own decoder, for its answer
        # (an `Unknown` result of an extension's kind) or its error.
        return full(raw)

    if first is None or attr is None:
        return by_tag
    read = msgspec.json.Decoder(first, dec_hook=hook_for(first)).decode
    member_tag = attr

    def decode(raw: msgspec.Raw) -> Any:
        try:
            result = read(raw)
        except (msgspec.DecodeError, RecursionError):
            pass  # another member, or no valid one: by its tag
        else:
            if getattr(result, member_tag) == absent:
                return result
        return by_tag(raw)

    _reads_as(
        decode,
        first,
        lambda result: getattr(result, member_tag) == absent,
        operator.attrgetter(member_tag),
        absent,
    )
    return decode


def _attribute(tp: Any, name: str) -> str | None:
    """The attribute of the Struct `tp` that holds its member named `name` on the wire (None: none)."""
    try:
        fields = msgspec.structs.fields(tp)
    except TypeError:
        return None
    return next((f.name for f in fields if f.encode_name == name), None)


def _analysed_later(key: _Key, old: Any, newest: Any, general: ResultDecoder) -> ResultDecoder:
    """`general`, which, at its `_ANALYSED_AFTER`th result, puts in its place in the cache (`key`) a
    decoder that reads results straight into `newest`, where `projection` finds the types agree."""
    left = _ANALYSED_AFTER

    def decode(raw: msgspec.Raw) -> Any:
        nonlocal left
        left -= 1
        if not left:
            # (imported here: msgspec.inspect, which it uses, stays out of a short-lived client)
            from .projection import direct

            checks = direct(old, newest)
            found = PREPARED.get(key)
            if checks is not None and found is not None:
                PREPARED[key] = found._replace(decode=_straight(newest, checks, general))
        return general(raw)

    return decode


def _straight(tp: Any, checks: list[Check], general: ResultDecoder) -> ResultDecoder:
    """A result decoded as the newest revision's type `tp` at once (`projection`), or by `general`
    where that decoding fails or leaves a check unmet: then `general`'s value or error stands."""
    fast = msgspec.json.Decoder(tp, dec_hook=hook_for(tp)).decode
    # The members that must hold their defaults, read in one call (as a tuple: `attrgetter` of one
    # name gives the value alone), and those that must be objects.
    names = [name for name, _, must in checks if must == "default"]
    objects = [name for name, _, must in checks if must == "object"]
    read = operator.attrgetter(*names) if names else None
    expected: Any = tuple(default for _, default, must in checks if must == "default")
    if len(names) == 1:
        expected = expected[0]  # (`attrgetter` of one name gives the value, not a tuple)

    def decode(raw: msgspec.Raw) -> Any:
        try:
            result = fast(raw)
        except (msgspec.DecodeError, RecursionError):
            return general(raw)
        if read is not None and read(result) != expected:
            return general(raw)
        for name in objects:
            value = getattr(result, name)
            if value is not msgspec.UNSET and type(value) is not dict:
                return general(raw)
        return result

    reader: ResultDecoder = decode
    if read is not None and len(names) == 1 and len(objects) == 1:
        # The usual checks (a member that must hold its default, one that must be an object): the
        # same, with no loop.
        usual_read, one, unset = read, objects[0], msgspec.UNSET

        def usual(raw: msgspec.Raw) -> Any:
            try:
                result = fast(raw)
            except (msgspec.DecodeError, RecursionError):
                return general(raw)
            value = getattr(result, one)
            if usual_read(result) != expected or (value is not unset and type(value) is not dict):
                return general(raw)
            return result

        reader = usual

    def holds(result: Any) -> bool:
        if read is not None and read(result) != expected:
            return False
        for name in objects:
            value = getattr(result, name)
            if value is not msgspec.UNSET and type(value) is not dict:
                return False
        return True

    check = holds
    if read is not None and len(names) == 1 and len(objects) == 1:
        # (The usual checks, as `usual` makes them: the same, with no loop.)
        read_one, one_object, unset = read, objects[0], msgspec.UNSET

        def holds_usual(result: Any) -> bool:
            value = getattr(result, one_object)
            return read_one(result) == expected and (value is unset or type(value) is dict)

        check = holds_usual
        # (The same, with no Python call, where the object member is absent: nearly always. A pair
        # equal to `(expected, unset)` holds; any other, `holds_usual` decides.)
        _reads_as(reader, tp, check, operator.attrgetter(names[0], one_object), (expected, unset))
        return reader

    _reads_as(reader, tp, check)
    return reader


def _reads_as(
    decode: ResultDecoder,
    tp: Any,
    holds: Callable[[Any], bool],
    quick: Callable[[Any], Any] = id,
    usual: Any = _NEVER,
) -> None:
    """Put `decode` in `ONE_PASS` (which stays bounded, as the cache of prepared requests): a result
    with `quick(result) == usual` holds, and `holds` decides of any other."""
    if len(ONE_PASS) >= _MAX_CACHED:
        ONE_PASS.clear()
        _READERS.clear()
    ONE_PASS[decode] = (tp, holds, quick, usual)


def answer_reader(
    decode: ResultDecoder,
) -> tuple[Callable[[bytes], Any], Callable[[Any], bool], Callable[[Any], Any], Any] | None:
    """For a decoder of `ONE_PASS`: a reader of a whole plain answer (as `peer._Answer` reads it:
    `jsonrpc` "2.0", an integer `id`, a `result`, nothing else) whose `result` is read as the
    decoder's type at once, and the check that result must pass, with its quick form (`quick`,
    `usual`: see `ONE_PASS`); None for another decoder. A
    result that passes is the decoder's value for the same bytes; an answer the reader refuses, or
    a result that fails the check, is for the decoder to read (its value, or its error)."""
    found = ONE_PASS.get(decode)
    if found is None:
        return None
    reader = _READERS.get(decode)
    if reader is None:
        tp = found[0]
        envelope = msgspec.defstruct(
            "Answer",
            [("jsonrpc", Literal["2.0"]), ("id", int), ("result", tp)],
            forbid_unknown_fields=True,
        )
        reader = _READERS[decode] = msgspec.json.Decoder(envelope, dec_hook=hook_for(tp)).decode
    return reader, found[1], found[2], found[3]


def _as_latest(checked: ResultDecoder, newest: Callable[[bytes], Any]) -> ResultDecoder:
    def decode(raw: msgspec.Raw) -> Any:
        result = checked(raw)
        return result if type(result) is wire.Unknown else newest(wire.encode(result))

    return decode


def _meta_type(params_type: Any) -> type | None:
    try:
        fields = msgspec.structs.fields(params_type)
    except TypeError:  # not a Struct (a union of params): no shortcut
        return None
    for field in fields:
        if field.encode_name == "_meta":
            tp = field.type
            if get_origin(tp) in (Union, UnionType):
                kinds = [arg for arg in get_args(tp) if arg is not msgspec.UnsetType]
                tp = kinds[0] if len(kinds) == 1 else None
            return tp if isinstance(tp, type) and issubclass(tp, dict) else None
    return None


class MetaMemo:
    """The `_meta` of stateless requests, converted once per type while it stays the same, and encoded
    once: every request carries the same bytes (`encoded`)."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[type, tuple[tuple[object, ...], Any, msgspec.Raw]] = {}
        """Per type: the key it was made for, the converted `_meta` and its JSON (a caller may look
        here first, as `encoded` does, with no frame for `encoded` while the key holds)."""

    def converted(self, key: tuple[object, ...], meta_type: type, build: Callable[[], dict[str, Any]]) -> Any:
        """`build()` converted into `meta_type`, built and converted again only when `key` changes:
        the caller's word for everything the meta is made of (cheaper to compare than the meta). A
        copy of `key` is kept: a dict in it that changes in place (the client's info) is a change."""
        return self.encoded(key, meta_type, build)[0]

    def encoded(
        self, key: tuple[object, ...], meta_type: type, build: Callable[[], dict[str, Any]]
    ) -> tuple[Any, msgspec.Raw]:
        """`converted`, and its JSON, for a request's params to carry as they are (`msgspec.Raw`)."""
        try:
            hit = self.entries[meta_type]
            if hit[0] == key:
                return hit[1], hit[2]
        except KeyError:
            pass
        converted: Any = wire.convert(build(), meta_type)
        raw = msgspec.Raw(wire.encode(converted))
        self.entries[meta_type] = (copy.deepcopy(key), converted, raw)
        return converted, raw
