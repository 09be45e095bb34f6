"""HTTP header values as received, pure: a request's headers read once into raw bytes by name, and the
few values the classifier needs as text, each distinct value decoded once (`TEXT`, bounded)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

__all__ = ["Headers", "TEXT", "text_of"]

Headers: TypeAlias = Mapping[bytes, bytes]
"""A request's headers: lower-case name -> value as received (the last one where a name repeats).
ASGI servers give them as a list of pairs; `dict(pairs)` reads them in C, with no call per header."""


class _Text(dict[bytes, str]):
    """Header values as text, by their bytes. A client sends the same few values on every request (its
    protocol version, its session id, a tool's name): each is decoded once, then read in one lookup."""

    def __missing__(self, raw: bytes) -> str:
        # Latin-1 (RFC 9110's obs-text), but ASCII, nearly every value, decodes the same by the
        # default codec, which skips looking the codec up by its name.
        text = (raw.decode() if raw.isascii() else raw.decode("latin-1")).strip(" \t")  # RFC 9110 OWS
        if len(raw) <= _KEPT_LENGTH:  # (long values, tokens say, are rarely sent twice: not kept)
            if len(self) >= _KEPT_VALUES:
                self.clear()  # bounded: the values are the client's to choose
            self[raw] = text
        return text


_KEPT_VALUES: Final = 1024
_KEPT_LENGTH: Final = 128
TEXT: Final = _Text()
"""`TEXT[raw]`: a header value as text (Latin-1, without surrounding whitespace)."""


def text_of(headers: Headers, name: bytes) -> str | None:
    """The value of header `name` as text, None when it is absent."""
    raw = headers.get(name)
    return None if raw is None else TEXT[raw]
