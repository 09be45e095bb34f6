"""Hostile input for the fuzz tests: strategies for bytes no honest peer sends, the hypothesis profile
they run under, and the checks every answer to them must pass.

The profile is small by default (CI runs the whole suite in well under a minute of fuzzing); set
`MCPBIND_FUZZ=deep` for a long run with many more examples per test (`MCPBIND_FUZZ=N` multiplies the
CI counts by N). Every test states its CI count with `fuzz(n)`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import msgspec
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from mcpbind.protocol import revisions
from mcpbind.protocol.tasks import EXTENSION_REQUESTS

from .conftest import module
from .strategies import generator

_MODE = os.environ.get("MCPBIND_FUZZ", "ci")
SCALE = 40 if _MODE == "deep" else int(_MODE) if _MODE.isdigit() else 1

settings.register_profile(
    "mcpbind-fuzz",
    deadline=None,
    # CI replays the same examples on every run (a failure is reproducible from the log); a deep run
    # explores.
    derandomize=SCALE == 1,
    database=None if SCALE == 1 else settings.default.database,
    # Shrinking a failure against a live server can take minutes (each step may restart it): CI
    # reports the example as found, a deep run shrinks it.
    phases=[Phase.explicit, Phase.generate] if SCALE == 1 else list(Phase),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    print_blob=True,
)
FUZZ = settings.get_profile("mcpbind-fuzz")


def fuzz(examples: int) -> settings:
    """The fuzz profile with `examples` examples in CI (times the deep-run scale)."""
    return settings(FUZZ, max_examples=examples * SCALE)


# -- values -------------------------------------------------------------------------------------------

TEXT = st.text(max_size=8)
"""Any Unicode, lone surrogates included: json.dumps escapes them as \\udXXX (valid JSON text)."""

HUGE_NUMBERS = st.sampled_from(
    [
        b"1e400",
        b"-1e400",
        b"1e-400",
        b"1" + b"0" * 400,
        b"-" + b"9" * 5000,
        b"18446744073709551616",
        b"-9223372036854775809",
        b"0." + b"0" * 3000 + b"1",
        b"123456789012345678901234567890.5e-2",
        b"-0",
        b"-0.0",
        b"1E+2",
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"01",
        b"1.",
        b".5",
        b"0x10",
    ]
) | st.integers(-(2**200), 2**200).map(lambda n: str(n).encode())

INVALID_UTF8 = st.sampled_from(
    [
        b"\xff",
        b"\xfe\xff",
        b"\x80",
        b"\xc0\xaf",
        b"\xc3",
        b"\xe2\x82",
        b"\xed\xa0\x80",
        b"\xf8\x88\x80\x80\x80",
    ]
)

DEPTHS = st.sampled_from(
    [2, 63, 64, 65, 128, 255, 256, 257, 512, 1000, 1024, 5000, 20000, 100_000]
) | st.integers(1, 3000)

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    """Arrays or objects nested `depth` deep, closed or not, around some value."""
    depth = draw(DEPTHS)
    inner = draw(st.sampled_from([b"1", b"[]", b"{}", b'"x"', b"null"]))
    kind = draw(st.sampled_from(["array", "object", "mixed"]))
    if kind == "array":
        opening, closing = b"[" * depth, b"]" * depth
    elif kind == "object":
        opening, closing = b'{"a":' * depth, b"}" * depth
    else:
        pair = depth // 2 + 1
        opening, closing = b'[{"a":' * pair, b"}]" * pair
    if draw(st.booleans()):
        return opening + inner + closing
    return opening + inner + closing[: draw(st.integers(0, len(closing) - 1))]


@st.composite
def bad_strings(draw: st.DrawFn) -> bytes:
    """A JSON string with invalid UTF-8, a control character or a broken escape inside."""
    bad = draw(
        INVALID_UTF8
        | st.sampled_from([b"\x00", b"\x1f", b"\n", b"\\", b"\\x41", b"\\u12", b"\\ud800", b"\\udc00\\ud800"])
    )
    return b'"a' + bad + b'b"'


HOSTILE_VALUES: st.SearchStrategy[bytes] = st.one_of(
    JSON_VALUES.map(dump),
    nested(),
    HUGE_NUMBERS,
    bad_strings(),
    st.binary(max_size=12),
)
"""The raw JSON (or not) that goes where a value belongs."""


# -- messages -----------------------------------------------------------------------------------------

SLOTS = ("jsonrpc", "id", "method", "params", "result", "error")


@st.composite
def envelopes(draw: st.DrawFn, methods: list[str]) -> bytes:
    """A JSON-RPC object whose members are each right, wrong or missing, with a hostile value in
    at least one place (a member, a member of params, or a raw splice)."""
    members: dict[str, bytes] = {}
    if draw(st.integers(0, 9)):
        members["jsonrpc"] = b'"2.0"'
    if draw(st.booleans()):
        members["id"] = dump(draw(st.integers(1, 10**6) | TEXT.map(lambda s: "h" + s)))
    if draw(st.integers(0, 4)):
        members["method"] = dump(draw(st.sampled_from(methods) if methods else TEXT))
    if draw(st.integers(0, 3)):
        members["params"] = dump(draw(st.dictionaries(TEXT, JSON_VALUES, max_size=3)))
    elif draw(st.booleans()):
        members["result" if draw(st.booleans()) else "error"] = dump(draw(JSON_VALUES))
    slot = draw(st.sampled_from([*SLOTS, "param", "param"]))
    hostile = draw(HOSTILE_VALUES)
    if slot == "param":
        key = dump(draw(st.sampled_from(["name", "arguments", "uri", "cursor", "_meta", "level"]) | TEXT))
        members["params"] = b"{" + key + b":" + hostile + b"}"
    else:
        members[slot] = hostile
    body = b",".join(dump(k) + b":" + v for k, v in members.items())
    return b"{" + body + b"}"


@st.composite
def mangled(draw: st.DrawFn, methods: list[str]) -> bytes:
    """A well-formed message, then truncated, or with a byte changed or inserted."""
    message: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": draw(st.integers(1, 1000)),
        "method": draw(st.sampled_from(methods)),
    }
    message["params"] = draw(st.dictionaries(TEXT, JSON_VALUES, max_size=3))
    data = bytearray(dump(message))
    at = draw(st.integers(0, len(data) - 1))
    how = draw(st.sampled_from(["truncate", "replace", "insert"]))
    if how == "truncate":
        return bytes(data[:at])
    byte = draw(st.integers(0, 255) | st.sampled_from(list(b'{}[]",:\\')))
    if how == "replace":
        data[at] = byte
    else:
        data.insert(at, byte)
    return bytes(data)


def messages(methods: list[str], batches: bool = True) -> st.SearchStrategy[bytes]:
    """Every kind of hostile message: raw bytes, nesting, hostile envelopes, mangled requests and
    (where `batches`) arrays of them."""
    single = st.one_of(
        st.binary(max_size=64),
        nested(),
        HUGE_NUMBERS,
        envelopes(methods),
        envelopes(methods),
        mangled(methods),
    )
    if not batches:
        return single
    batch = st.lists(single, max_size=4).map(lambda items: b"[" + b",".join(items) + b"]")
    return single | batch


# -- checks -------------------------------------------------------------------------------------------


def is_valid_json(data: bytes) -> bool | None:
    """Whether `data` is one JSON text (RFC 8259, UTF-8); None where Python cannot tell (too deep)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        json.loads(text, parse_constant=refuse, parse_int=str)  # str: no limit on digits
    except RecursionError:
        return None
    except ValueError:
        return False
    return True


def parse_error_expected(data: bytes) -> bool:
    """Input the answer to which must be -32700 (JSON-RPC 2.0: "Invalid JSON was received"): not
    UTF-8, or not JSON, whatever its shape would have been."""
    return is_valid_json(data) is False


def check_response(message: Any) -> dict[str, Any]:
    """`message` is a JSON-RPC 2.0 response: a result or an error with an integer code and a string
    message, and an id (or, for an error about input whose id is unknown, none: left out, or null on
    a session of 2025-06-18 or earlier, whose schema requires the member)."""
    assert isinstance(message, dict), message
    assert message.get("jsonrpc") == "2.0", message
    assert ("result" in message) != ("error" in message), message
    if "error" in message:
        error = message["error"]
        assert isinstance(error, dict) and isinstance(error.get("code"), int), message
        assert isinstance(error.get("message"), str), message
    else:
        assert "id" in message and message["id"] is not None, message
    if message.get("id") is not None:
        assert isinstance(message["id"], (str, int, float)) and not isinstance(message["id"], bool), message
    elif "id" in message:
        assert "error" in message, message
    return message


# -- valid instances made hostile in one place ---------------------------------------------------------

_HOLE = "\x00hostile\x00"


def _holes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value where another value may go (members and items)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((*path, key))
            out.extend(_holes(item, (*path, key)))
        out.append((*path, "x-added"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.append((*path, index))
            out.extend(_holes(item, (*path, index)))
    return out


def _put(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return _HOLE
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _put(value.get(head), rest)}
    copy = list(value)
    copy[head] = _put(copy[head], rest)
    return copy


@st.composite
def wrong_typed(draw: st.DrawFn, revision: str, tp: Any, meta: dict[str, Any] | None = None) -> bytes:
    """A valid instance of `tp` (where the schema defines it) with one member or item replaced by a
    hostile value: a wrong kind, deep nesting, a huge number, a broken string. `meta` goes into the
    instance's `_meta` first (2026-07-28 requests carry their version there)."""
    name = getattr(tp, "__name__", "")
    gen = generator(revision)
    if name in gen.defs:
        base = draw(gen.instances(name))
    else:
        base = draw(st.dictionaries(st.sampled_from(_wire_names(tp) or ["x"]), JSON_VALUES, max_size=4))
    if meta and isinstance(base, dict):
        own = base.get("_meta")
        base["_meta"] = {**(own if isinstance(own, dict) else {}), **meta}
    holes = _holes(base)
    if not holes or draw(st.integers(0, 9)) == 0:
        return draw(HOSTILE_VALUES)
    hostile = draw(HOSTILE_VALUES | JSON_VALUES.map(dump))
    data = dump(_put(base, draw(st.sampled_from(holes))))
    return data.replace(dump(_HOLE), hostile, 1)


def _wire_names(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return [f.encode_name for f in msgspec.structs.fields(tp)]
    return [wire_name for _, wire_name in getattr(tp, "_members_", ())]


def requests_of(revision: str) -> dict[str, Any]:
    """The requests of `revision`: its generated table's, and for the stateless revisions the tasks
    extension's (`tasks/get`, `tasks/update`, `tasks/cancel`), which no generated table carries."""
    extension = EXTENSION_REQUESTS if revisions.is_modern(revision) else {}
    return {**module(revision).REQUESTS, **extension}


def hostile_params(revision: str, only: tuple[str, ...] = ()) -> st.SearchStrategy[tuple[str, bytes]]:
    """(method, params made hostile in one place) for every method of `revision` that has params (or
    those of `only`); the stateless revision's carry their version in `_meta`. `subscriptions/listen`
    is left out: with params that happen to be valid it is answered only when cancelled."""
    mod = module(revision)
    table = {**requests_of(revision), **mod.NOTIFICATIONS}
    specs = {name: spec for name, spec in table.items() if spec.params_type and (not only or name in only)}
    specs.pop("subscriptions/listen", None)
    meta = {revisions.META_VERSION: revision} if revisions.is_modern(revision) else {}
    return st.sampled_from(sorted(specs)).flatmap(
        lambda name: st.tuples(st.just(name), wrong_typed(revision, specs[name].params_type, meta))
    )
