"""What the Streamable HTTP client reads off a POST's exchange, and what it makes of one that failed.

A JSON body's envelope (`read_reply`: the result left raw, for the peer to decode), whether an SSE
event answers a request (`answers`), how a POST's stream ended (`SseEnd`), the routing facts of one of
the client's own requests as the caller gives them (`request_peek`), and the error a request gets when
its exchange failed (`failure`). Pure: the transport (`client.py`) does the I/O.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

import msgspec

from ...protocol import jsonrpc, revisions, salvage
from ...protocol.headers import Peek, PeekParams
from .auth import AUTHORIZATION_FAILED, AuthorizationFailed
from .http11 import HttpError, ResponseTooLarge

__all__ = [
    "PlainResult",
    "Reply",
    "SseEnd",
    "answers",
    "discover_version",
    "failure",
    "read_plain",
    "read_reply",
    "request_peek",
]


class SseEnd(msgspec.Struct):
    """How an SSE stream ended: the last event id, the server's `retry` (ms), and whether the answer
    to the request it carries came."""

    last_id: str | None = None
    retry_ms: int | None = None
    answered: bool = False


class _Answer(msgspec.Struct):
    id: Any = None
    method: str | None = None


_answer = msgspec.json.Decoder(_Answer)


class Reply(msgspec.Struct):
    """A JSON body's envelope, its result left raw: enough to tell an answer from anything else."""

    jsonrpc: Any = msgspec.UNSET
    id: Any = msgspec.UNSET
    method: Any = msgspec.UNSET
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: Any = msgspec.UNSET


read_reply = msgspec.json.Decoder(Reply | list[msgspec.Raw]).decode
"""A JSON body's envelope (a batch: its items, raw); raises msgspec.DecodeError for what is not one."""


class PlainResult(msgspec.Struct, forbid_unknown_fields=True):
    """A plain result's envelope, and nothing else: `jsonrpc` "2.0", an integer id and the result
    (raw); any other member (`error`, `method`) is no plain result."""

    jsonrpc: Literal["2.0"]
    id: int
    result: msgspec.Raw


read_plain = msgspec.json.Decoder(PlainResult).decode
"""A JSON body that is a plain result (nearly every answer), its envelope read in one step with no
member left to check; msgspec.DecodeError for anything else (then `read_reply`)."""


def answers(payload: bytes, rid: Any) -> bool:
    """Whether an event's message is the answer (result or error) to request `rid`."""
    try:
        message = _answer.decode(payload)
    except (msgspec.DecodeError, RecursionError):
        # Unreadable: the peer fails the request it answers (if its id can be read) or skips it.
        return salvage.is_answer_to(payload, rid)
    return message.method is None and message.id == rid


def _member(params: Any, name: str) -> Any:
    """A member of a params Struct, None where it has none (or it is unset)."""
    value = getattr(params, name, None)
    return None if value is msgspec.UNSET else value


def request_peek(rid: Any, method: str, params: msgspec.Struct | None, stateless: bool) -> Peek:
    """What routing a request of ours needs (`Peek`, as if read off its bytes), from the request
    itself: on the stateless wire, the member its `Mcp-Name` mirrors (the arguments that tools'
    headers mirror are read from `typed`)."""
    # (Members by position, the first of each Struct's: made for every request.)
    if params is None or not stateless:
        return Peek(method, rid, None, params)
    if method == "tools/call":  # (first: nearly every request; its `name` is required)
        return Peek(method, rid, PeekParams(getattr(params, "name", None)), params)
    if method == "resources/read":
        routed = PeekParams(uri=_member(params, "uri"))
    elif method.startswith("tasks/"):
        routed = PeekParams(task_id=_member(params, "task_id"))
    else:
        routed = PeekParams(name=_member(params, "name"))
    return Peek(method, rid, routed, typed=params)


def discover_version(data: bytes) -> str | None:
    """The revision a `server/discover` request names in its `_meta`, if it names one."""
    with contextlib.suppress(msgspec.DecodeError, AttributeError, TypeError):
        params = msgspec.json.decode(data).get("params") or {}
        version = (params.get("_meta") or {}).get(revisions.META_VERSION)
        return version if isinstance(version, str) else None
    return None


def failure(exc: Exception, method: str | None) -> tuple[str, int, Any]:
    """The error (message, code, data) of a request whose POST failed with `exc`: an authorization
    that failed, an answer over the limits, the connection, or anything else (`auth` failing, say)."""
    if isinstance(exc, AuthorizationFailed):
        return f"authorization failed: {exc}", jsonrpc.INVALID_REQUEST, AUTHORIZATION_FAILED
    if isinstance(exc, ResponseTooLarge):
        return f"the answer to {method} is too large: {exc}", jsonrpc.INTERNAL_ERROR, msgspec.UNSET
    if isinstance(exc, HttpError | OSError | TimeoutError):
        return f"HTTP transport error: {exc!r}", jsonrpc.INTERNAL_ERROR, msgspec.UNSET
    return f"the request could not be completed: {exc!r}", jsonrpc.INTERNAL_ERROR, msgspec.UNSET
