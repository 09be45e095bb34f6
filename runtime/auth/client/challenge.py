"""`WWW-Authenticate` challenges (RFC 9110 11.6.1) as data: scheme and auth-params, for the OAuth client.

Pure: a header value in, a list of `Challenge` out. Only what a client reads is kept (the parameters of
each scheme, lower-cased names); a malformed parameter ends its challenge rather than the whole parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Challenge", "parse", "find"]

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_SPACE = re.compile(r"[ \t]*")


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """As sent; compare with `is_scheme` (schemes are case-insensitive)."""
    params: dict[str, str] = field(default_factory=dict)
    """Parameter names lower-cased; values unquoted."""

    def is_scheme(self, name: str) -> bool:
        return self.scheme.lower() == name.lower()

    @property
    def scope(self) -> list[str] | None:
        scope = self.params.get("scope")
        return scope.split() if scope is not None else None


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _quoted(text: str, at: int) -> tuple[str, int]:
    """A quoted-string starting at `at` (on its opening quote): its value and the index after it."""
    out: list[str] = []
    i = at + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise ValueError("unterminated quoted-string")


def parse(header: str) -> list[Challenge]:
    """Every challenge of a `WWW-Authenticate` value (repeated headers joined with ", " are one value)."""
    challenges: list[Challenge] = []
    i, n = 0, len(header)
    while i < n:
        i = _skip(header, i)
        if i < n and header[i] == ",":
            i += 1
            continue
        scheme = _TOKEN.match(header, i)
        if scheme is None:
            break
        current = Challenge(scheme.group(0))
        challenges.append(current)
        i = _skip(header, scheme.end())
        # Auth-params until the next challenge's scheme (a token not followed by "="); a token68 is
        # not read: OAuth challenges have none.
        while i < n:
            i = _skip(header, i)
            if i < n and header[i] == ",":
                i += 1
                continue
            name = _TOKEN.match(header, i)
            if name is None:
                return challenges
            after = _skip(header, name.end())
            if after >= n or header[after] != "=":
                break  # the next challenge's scheme
            i = _skip(header, after + 1)
            try:
                if i < n and header[i] == '"':
                    value, i = _quoted(header, i)
                else:
                    raw = _TOKEN.match(header, i)
                    if raw is None:
                        return challenges
                    value, i = raw.group(0), raw.end()
            except ValueError:
                return challenges
            current.params.setdefault(name.group(0).lower(), value)
    return challenges


def find(challenges: list[Challenge], *schemes: str) -> Challenge | None:
    """The first challenge of one of `schemes` (case-insensitive)."""
    for challenge in challenges:
        if any(challenge.is_scheme(s) for s in schemes):
            return challenge
    return None
