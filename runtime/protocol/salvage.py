"""What can still be read of a message that cannot be decoded whole: its id, and whether it is a request.

A message over a size limit is dropped unread, and one the decoder refuses (nested too deeply, a string
that is no UTF-8) cannot be classified; yet the request it answers should fail at once, with the cause,
rather than at its timeout. Servers put the small members of a message first (`jsonrpc`, `id`,
`method`) or last (the TypeScript SDK writes `result` first), so the scalar members at either end of
the top-level object usually include the id. Only the error paths come here.
"""

from __future__ import annotations

import functools
import re
from typing import Final

import msgspec

from .endpoint import EDGE
from .jsonrpc import RequestId, valid_id

__all__ = ["EDGE", "Salvaged", "salvage", "is_answer_to"]


_STRING: Final = rb'"(?:[^"\\]|\\.)*"'
_SCALAR: Final = rb'(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)'


@functools.cache
def _patterns() -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    """The object's opening, a leading member, the run of members before its end, one member: compiled
    on the first salvage (an error path), not by every process that imports the endpoint."""
    return (
        re.compile(rb"\s*\{"),
        re.compile(rb"\s*(" + _STRING + rb")\s*:\s*(" + _SCALAR + rb")\s*([,}])"),
        re.compile(rb"(?:[{,]\s*" + _STRING + rb"\s*:\s*" + _SCALAR + rb"\s*)+\}\s*$"),
        re.compile(rb"[{,]\s*(" + _STRING + rb")\s*:\s*(" + _SCALAR + rb")"),
    )


class Salvaged:
    """What `salvage` read (a plain class, not a NamedTuple: one costs ~0.1 ms to create at import)."""

    __slots__ = ("id", "request")

    id: RequestId | None
    """The top-level `id`, if it could be read (and is a valid request id)."""
    request: bool
    """A top-level `method` was seen: the message is the peer's request or notification."""

    def __init__(self, id: RequestId | None, request: bool) -> None:
        self.id = id
        self.request = request

    def __repr__(self) -> str:
        return f"Salvaged(id={self.id!r}, request={self.request})"


def _members(head: bytes, tail: bytes) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    opening, leading, trailing_run, member_at = _patterns()
    opened = opening.match(head)
    if opened is not None:
        pos = opened.end()
        while (member := leading.match(head, pos)) is not None:
            found[member[1]] = member[2]
            if member[3] == b"}":
                return found  # the whole object was small members
            pos = member.end()
    run = trailing_run.search(tail)
    if run is not None:
        for member in member_at.finditer(run[0]):
            found.setdefault(member[1], member[2])
    return found


def salvage(head: bytes, tail: bytes | None = None) -> Salvaged:
    """Read the id of a message from its first and last bytes (`tail` None: `head` is the whole)."""
    members = _members(head[:EDGE], (head if tail is None else tail)[-EDGE:])
    rid: RequestId | None = None
    raw = members.get(b'"id"')
    if raw is not None:
        try:
            value = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            value = None
        if valid_id(value):
            rid = value
    return Salvaged(rid, b'"method"' in members)


def is_answer_to(message: bytes, rid: RequestId) -> bool:
    """Whether an unreadable message is, as far as can be read, the answer to request `rid`."""
    found = salvage(message)
    return not found.request and found.id == rid
