"""JSON-RPC 2.0 framing, sans-I/O: bytes in, classified messages out; messages in, bytes out.

Incoming messages are decoded once into a small envelope whose `params`/`result` stay raw JSON
(`msgspec.Raw`), so the session decodes them straight into the method's generated type, with no
intermediate dicts. Anything that is not a valid JSON-RPC 2.0 message becomes a `Malformed` carrying the
error response the spec prescribes (-32700 for bad JSON, -32600 for a bad envelope).

JSON nested deeper than the decoder's recursion allows (msgspec raises `RecursionError`, not
`DecodeError`, a few hundred levels down) is bad JSON like any other: -32700, and serving goes on.
"""

from __future__ import annotations

import struct
from typing import Any, Final, TypeAlias

import msgspec
from msgspec import UNSET, UnsetType

from .. import wire
from ..lazy import resolve_annotations

__all__ = [
    "PARSE_ERROR",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "INVALID_PARAMS",
    "INTERNAL_ERROR",
    "RequestId",
    "valid_id",
    "ErrorObject",
    "Request",
    "Notification",
    "Response",
    "ErrorResponse",
    "Malformed",
    "PARSE_FAILURE",
    "Message",
    "parse",
    "parse_single",
    "parse_batch",
    "refusal",
    "refuse_batch",
    "RequestFrame",
    "encode_request",
    "encode_notification",
    "encode_result",
    "encode_error",
]

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603

RequestId: TypeAlias = str | int
"""A JSON-RPC request id as MCP allows it: a string or an integer (every revision's schema says so)."""


class ErrorObject(msgspec.Struct, omit_defaults=True):
    """The `error` member of a JSON-RPC error response."""

    code: int
    message: str
    data: Any = UNSET


class _Envelope(msgspec.Struct, gc=False):
    # (Not tracked by the collector: read from JSON, nothing it holds can refer back to it.)
    # Every member optional: classification below decides what the combination means.
    jsonrpc: Any = UNSET
    id: Any = UNSET
    method: Any = UNSET
    params: msgspec.Raw | UnsetType = UNSET
    result: msgspec.Raw | UnsetType = UNSET
    error: Any = UNSET


class Request(msgspec.Struct, frozen=True, gc=False):
    # (Not tracked by the collector: frozen, of text, numbers and raw JSON alone: in no cycle.)
    id: RequestId
    method: str
    params: msgspec.Raw | None
    """The raw JSON of `params`, decoded by the session into the method's params type; None if absent."""


class Notification(msgspec.Struct, frozen=True):
    method: str
    params: msgspec.Raw | None


class Response(msgspec.Struct, frozen=True):
    id: RequestId
    result: msgspec.Raw


class ErrorResponse(msgspec.Struct, frozen=True):
    id: RequestId | None
    error: ErrorObject


PARSE_FAILURE: Final = "parse error"
"""The `reason` of a `Malformed` that is no JSON at all (answered -32700)."""


class Malformed(msgspec.Struct, frozen=True):
    """Input that is not a valid message; `reply` is the error response to send (None: send nothing)."""

    reason: str
    reply: bytes | None


Message: TypeAlias = Request | Notification | Response | ErrorResponse | Malformed

# (Its annotations read here, with no compiling: msgspec would compile each one, at every start.)
_single = msgspec.json.Decoder(resolve_annotations(_Envelope))
_any = msgspec.json.Decoder(_Envelope | list[msgspec.Raw])
_batch = msgspec.json.Decoder(list[msgspec.Raw])
_encode = wire.encode


_STRUCTURED: Final = (ord("{"), ord("["))
_first_byte: Final = struct.Struct("B").unpack_from
"""`(raw[0],)` of a `msgspec.Raw` (which has no indexing): read through its buffer, with no memoryview
made and freed (about 1k instructions less, for every request's params)."""


def valid_id(value: Any) -> bool:
    """Whether `value` may be a request id (a string or an integer, not a bool): only such an id is
    ever echoed or matched to a request of ours. A float (1.5, or 1e400 read as infinity) is none:
    1.0 would otherwise match request 1, and infinity would be echoed as null."""
    return type(value) is str or type(value) is int


def _classify(env: _Envelope) -> Message:
    rid = env.id
    method = env.method
    # The usual message, a well-formed request, in as few steps as make sure of it; anything else
    # (an id of another type included) is classified below, in full.
    if type(method) is str and env.jsonrpc == "2.0" and (type(rid) is int or type(rid) is str):
        raw = env.params
        if raw is UNSET:
            return Request(rid, method, None)
        if _first_byte(raw)[0] in _STRUCTURED:
            return Request(rid, method, raw)
    if env.jsonrpc != "2.0":
        return _malformed(rid, '`jsonrpc` must be "2.0"')
    if env.method is not UNSET:
        if not isinstance(env.method, str):
            return _malformed(rid, "`method` must be a string")
        params = None if env.params is UNSET else env.params
        if params is not None and _first_byte(params)[0] not in _STRUCTURED:
            return _malformed(rid, "`params` must be an object")
        if rid is UNSET:
            return Notification(env.method, params)
        if not valid_id(rid):
            return _malformed(None, "`id` must be a string or an integer")
        return Request(rid, env.method, params)
    if not isinstance(env.result, UnsetType):
        if not valid_id(rid):
            return Malformed("response without a valid id", None)
        if env.error is not UNSET:
            # An invalid response (JSON-RPC 2.0 has one or the other), not a result: the request it
            # names fails with the reason, as an error answer would make it (nothing is sent back).
            return ErrorResponse(rid, _BOTH)
        return Response(rid, env.result)
    if env.error is not UNSET:
        try:
            error = msgspec.convert(env.error, ErrorObject)
        except msgspec.ValidationError:
            return Malformed("error response with an invalid `error`", None)
        return ErrorResponse(rid if valid_id(rid) else None, error)
    return _malformed(rid, "neither a request, a notification nor a response")


_BOTH: Final = ErrorObject(INVALID_REQUEST, "invalid response: it has both `result` and `error`")


def _malformed(rid: Any, reason: str) -> Malformed:
    reply_id = rid if valid_id(rid) else None
    return Malformed(reason, encode_error(reply_id, INVALID_REQUEST, f"Invalid request: {reason}"))


def _unparsable(detail: str) -> Malformed:
    return Malformed(PARSE_FAILURE, encode_error(None, PARSE_ERROR, f"Parse error: {detail}"))


_TOO_DEEP: Final = wire.TOO_DEEP
_json_only = msgspec.json.Decoder(msgspec.Raw)  # reads the syntax, converts nothing (1e400 included)


def _wrong_shape(data: bytes | memoryview, rid: Any, reason: object) -> Malformed:
    """Input refused for its shape, which the decoder may have seen before the end of the text: a
    parse error (-32700) if the text is no JSON at all, else an invalid request (-32600). Error path
    only: the whole text is read once more, for its syntax alone."""
    try:
        _json_only.decode(data)
    except msgspec.DecodeError as bad:
        return _unparsable(wire.decode_failure(bad, data))
    except RecursionError:
        return _unparsable(_TOO_DEEP)
    bad_text = _utf8_error(data)
    if bad_text is not None:
        return _unparsable(bad_text)
    return _malformed(rid, str(reason))


def refusal(data: bytes | memoryview, reason: object) -> bytes:
    """The answer to a text that is no acceptable message for `reason`: -32600, or -32700 if the text
    is no JSON at all."""
    reply = _wrong_shape(data, None, reason).reply
    assert reply is not None
    return reply


def refuse_batch(data: bytes | memoryview) -> bytes:
    """The answer to a batch where the revision has none (see `refusal`)."""
    return refusal(data, "this protocol revision has no JSON-RPC batches")


def _utf8_error(data: bytes | memoryview) -> str | None:
    """Why `data` is not UTF-8, or None. The decoder checks the strings it reads, not those it skips
    (undeclared members, raw params): text that is not ASCII is checked whole, once, here. ASCII, nearly
    every message, costs one scan of the bytes."""
    text = data if isinstance(data, bytes) else bytes(data)
    if text.isascii():
        return None
    try:
        text.decode()
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start}"
    return None


def _checked(env: _Envelope, data: bytes | memoryview) -> Message:
    """The message `env` read from `data`, if `data` is UTF-8 throughout. Otherwise a parse error: a
    request's names its id; an answer to one of ours becomes an error answer, so that the request it
    answers fails with the reason rather than waiting."""
    bad = _utf8_error(data)
    if bad is None:
        return _classify(env)
    rid = env.id if valid_id(env.id) else None
    if env.method is UNSET and rid is not None and (env.result is not UNSET or env.error is not UNSET):
        return ErrorResponse(rid, ErrorObject(PARSE_ERROR, f"the answer could not be read: {bad}"))
    reply_id = rid if env.method is not UNSET else None
    return Malformed(PARSE_FAILURE, encode_error(reply_id, PARSE_ERROR, f"Parse error: {bad}"))


def parse_single(data: bytes | memoryview, batches: bool = False) -> Message | None:
    """Classify one framed JSON text that is a single message, in one pass (the envelope is read
    once, and a well-formed request is recognised inline). None: the text is a batch (only where
    `batches` allows it), which `parse` or `parse_batch` reads."""
    try:
        env = (_any if batches else _single).decode(data)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            # JSON of the wrong shape (an array without batches, a scalar...), or no JSON at all.
            return _wrong_shape(data, None, exc)
        return _unparsable(wire.decode_failure(exc, data))
    except RecursionError:
        return _unparsable(_TOO_DEEP)
    if type(env) is not _Envelope:
        return None
    if type(data) is bytes and data.isascii():  # (`_checked`'s usual case, inline: ASCII is UTF-8)
        # `_classify`'s usual case, inline: a well-formed request with an int or str id.
        rid = env.id
        method = env.method
        if type(method) is str and env.jsonrpc == "2.0" and (type(rid) is int or type(rid) is str):
            raw = env.params
            if raw is UNSET:
                return Request(rid, method, None)
            if _first_byte(raw)[0] in _STRUCTURED:
                return Request(rid, method, raw)
        return _classify(env)
    return _checked(env, data)


def parse(data: bytes | memoryview, *, batches: bool = False) -> list[Message]:
    """Classify one framed JSON text; a batch (where `batches` allows it) gives one message per item."""
    message = parse_single(data, batches)
    if message is not None:
        return [message]
    items = parse_batch(data)  # (a batch: read again as one, the rare case)
    return [items] if isinstance(items, Malformed) else items


def parse_batch(data: bytes | memoryview) -> list[Message] | Malformed:
    """Classify the items of a JSON-RPC batch (a text that starts with `[`), one message per item.

    A text that is no batch as a whole (bad JSON, an empty array, not an array) gives one `Malformed`
    instead: its error answer is a single object, where the errors of bad items go in the array.
    """
    try:
        items = _batch.decode(data)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            return _wrong_shape(data, None, exc)
        return _unparsable(wire.decode_failure(exc, data))
    except RecursionError:
        return _unparsable(_TOO_DEEP)
    if not items:
        return _malformed(None, "empty batch")
    messages = [_item(item) for item in items]
    for at, message in enumerate(messages):
        if type(message) is Request and message.method == "initialize":
            # MCP 2025-03-26 (the revision with batches), lifecycle: "The initialize request MUST NOT
            # be part of a JSON-RPC batch". Served, it negotiated the connection's revision anew.
            messages[at] = _malformed(message.id, "initialize must not be part of a batch")
    return messages


def _item(raw: msgspec.Raw) -> Message:
    """One item of a batch (already known to be well-formed JSON, but not what it holds)."""
    try:
        return _checked(_single.decode(raw), raw)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            return _malformed(None, str(exc))
        return _unparsable(wire.decode_failure(exc, raw))
    except RecursionError:
        return _unparsable(_TOO_DEEP)


# Encoding builds the envelope around already-encoded params/results: one pass, no dict copies, and one
# `join` rather than a chain of `+`, which copied a large result once per `+` (a 1 MB tool result twice).


class RequestFrame(msgspec.Struct):
    """A request with params, as its members go on the wire (in this order): encoded in one call
    (`wire.encode`; a peer's every request, `Requester.request`)."""

    jsonrpc: str
    id: RequestId
    method: str
    params: Any


def encode_request(rid: RequestId, method: str, params: Any) -> bytes:
    if params is None:
        return b"".join((b'{"jsonrpc":"2.0","id":', _encode(rid), b',"method":', _encode(method), b"}"))
    # One encoder call for the whole request (every request), rather than one per member and a join.
    return _encode(RequestFrame("2.0", rid, method, params))


def encode_notification(method: str, params: Any) -> bytes:
    if params is None:
        return b"".join((b'{"jsonrpc":"2.0","method":', _encode(method), b"}"))
    return b"".join((b'{"jsonrpc":"2.0","method":', _encode(method), b',"params":', _encode(params), b"}"))


class _Result(msgspec.Struct):
    """A response, as its members go on the wire (in this order)."""

    jsonrpc: str
    id: RequestId
    result: Any


def encode_result(rid: RequestId, result: Any) -> bytes:
    # One encoder call for the whole answer (every answer), rather than one per member and a join.
    return _encode(_Result("2.0", rid, result))


def encode_error(rid: RequestId | None, code: int, message: str, data: Any = UNSET) -> bytes:
    """An error response; without a known request id (a parse error) the `id` member is left out, as the
    2025-11-25 and later schemas allow (they admit no `null` id). Where a session of an earlier revision
    is in force, `null_id` gives the form its schema asks for."""
    error = _encode(ErrorObject(code, message, data))
    if rid is None:
        return _NO_ID + error + b"}"
    return b'{"jsonrpc":"2.0","id":' + _encode(rid) + b',"error":' + error + b"}"


_NO_ID: Final = b'{"jsonrpc":"2.0","error":'


def null_id(reply: bytes) -> bytes:
    """`reply`, an error answer of `encode_error`'s, with `"id": null` where it names no request.

    The schemas up to 2025-06-18 require `id` on an error response; JSON-RPC 2.0 says it is null when
    the request's could not be read. From 2025-11-25 `id` is optional and no schema admits null (nor
    does the TypeScript SDK's client, whose error response is `id: RequestId.optional()`): no form
    suits every revision, so the member is left out unless an earlier revision is known to be in force
    (`revisions.Revision.null_ids`), where this is what the peer is sent."""
    if reply.startswith(_NO_ID):
        return b'{"jsonrpc":"2.0","id":null,"error":' + reply[len(_NO_ID) :]
    return reply
