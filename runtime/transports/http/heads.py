"""Response header fields an answer's head reuses rather than builds: `CONTENT_LENGTH[n]`, the
`content-length` field of an `n`-byte body, made once per length.

Nearly every JSON answer of a server is short and most have one of a few lengths (the same tool, the
same shape, ids of the same width): formatting the length (`b"%d" % n`) cost about five times the
lookup. The fields are tuples, which nothing can change; the list of a head that holds them is still
made per response, since ASGI middleware may add to the list it is given (Starlette's `MutableHeaders`
appends in place).
"""

from __future__ import annotations

from typing import Final

__all__ = ["CONTENT_LENGTH"]

_KEPT_LENGTHS: Final = 16384
"""Lengths below this are kept (at most this many fields, a few hundred KiB); longer bodies, rare, and
far dearer to send than their field is to format, are formatted each time."""


class _ContentLengths(dict[int, tuple[bytes, bytes]]):
    def __missing__(self, length: int) -> tuple[bytes, bytes]:
        field = (b"content-length", b"%d" % length)
        if 0 <= length < _KEPT_LENGTHS:
            self[length] = field
        return field


CONTENT_LENGTH: Final[dict[int, tuple[bytes, bytes]]] = _ContentLengths()
"""The `content-length` header field of a body of each length, by length."""
