"""RFC 6570 URI templates, for matching resource URIs against registered templates.

Supports the expressions resource templates use: `{var}` (one path segment, percent-decoded),
`{+var}` (reserved expansion: may span segments), `{/var}` and `{.var}`, and `{?a,b}` / `{&a}` query
parameters (each optional).

`bind` gives a resource handler its values: a URI whose decoded values would leave their place does not
match there (a `/` or `\\` in a one-segment variable, a `.` or `..` segment, a NUL), so that a handler
that makes a path of `{name}` is not walked out of its folder by `..%2F..%2Fetc%2Fpasswd` (CWE-22).
`match` is the plain RFC 6570 reading, for what must hold for every URI a template covers (the scopes
it requires).

A template whose variables could end in more than one place (`{+a}/{+b}`, `{a}-{b}`) is not matched
by its regex, whose backtracking costs a power of the URI's length, but by `_walk`, linear, which
gives the same values.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Final

__all__ = ["UriTemplate"]

_EXPR: Final = re.compile(r"\{([+#./;?&]?)([A-Za-z0-9_.,*%]+)\}")


class UriTemplate:
    def __init__(self, template: str) -> None:
        self.template = template
        self.variables: list[str] = []
        self._query: list[str] = []
        self._segments: set[str] = set()
        """The variables that stand for one path segment (`{var}`, `{/var}`, `{.var}`)."""
        pattern = ""
        parts: list[_Part] = []
        """The template as literals and variables (each with the characters its value excludes; None:
        any, shortest first), in order: what `_walk` matches when the regex could backtrack."""
        pos = 0
        for match in _EXPR.finditer(template):
            pattern += re.escape(template[pos : match.start()])
            op, names = match.group(1), [n.rstrip("*") for n in match.group(2).split(",")]
            parts.append(template[pos : match.start()])
            pos = match.end()
            if op in ("?", "&"):
                self._query += names
                self.variables += names
                continue
            for name in names:
                self.variables.append(name)
                if op in ("+", "#"):
                    pattern += ("#" if op == "#" else "") + f"(?P<{name}>.+?)"
                    parts += ["#"] if op == "#" else []
                    parts.append((name, None))
                elif op in ("/", "."):
                    pattern += re.escape(op) + f"(?P<{name}>[^/?#.]+)"
                    parts += [op, (name, "/?#.")]
                else:
                    pattern += f"(?P<{name}>[^/?#]+)"
                    parts.append((name, "/?#"))
                if op not in ("+", "#"):
                    self._segments.add(name)
        pattern += re.escape(template[pos:])
        parts.append(template[pos:])
        self._regex = re.compile(pattern + (r"(?:\?(?P<__query>.*))?" if self._query else "") + r"\Z")
        self._parts = [part for part in parts if part != ""]
        self._ambiguous = _ambiguous(self._parts, bool(self._query))

    def match(self, uri: str) -> dict[str, str] | None:
        """The variables of `uri` if it matches, else None."""
        if self._ambiguous:
            groups = _walk(self._parts, bool(self._query), uri)
        else:
            found = self._regex.match(uri)
            groups = None if found is None else found.groupdict()
        if groups is None:
            return None
        values = {k: urllib.parse.unquote(v) for k, v in groups.items() if v is not None and k != "__query"}
        query = groups.get("__query")
        if self._query and query:
            for key, value in urllib.parse.parse_qsl(query):
                if key in self._query:
                    values[key] = value
        return values

    def bind(self, uri: str) -> dict[str, str] | None:
        """The variables of `uri` as a handler gets them: as `match`, but None also when a decoded
        value would leave its place (see the module's text)."""
        values = self.match(uri)
        if values is None:
            return None
        for name, value in values.items():
            if "\0" in value:
                return None
            if name in self._segments:
                if "/" in value or "\\" in value or value in (".", ".."):
                    return None
            elif "." in value and any(part in (".", "..") for part in value.replace("\\", "/").split("/")):
                return None
        return values

    def __repr__(self) -> str:
        return f"UriTemplate({self.template!r})"


_Part = str | tuple[str, str | None]


def _ambiguous(parts: list[_Part], query: bool) -> bool:
    """Whether the regex could try many ways to split a URI: a variable followed by another, or by a
    literal that may be part of its value (`{a}-{b}`, `{+a}/{+b}`). Backtracking then costs the
    URI's length to the power of such variables (3 s for 1 KB of `a/` against `x://{+a}/{+b}/{+c}/z`),
    which one request with a long URI holds the server's loop for; otherwise each variable has one
    end, and the regex is linear."""
    for at, part in enumerate(parts):
        if isinstance(part, str):
            continue
        after = parts[at + 1] if at + 1 < len(parts) else None
        excluded = part[1]
        if after is None:
            if excluded is None and query:  # (`.+?` then an optional query: where '?' is)
                return True
            continue
        if isinstance(after, tuple) or excluded is None or after[0] not in excluded:
            return True
    return False


def _walk(parts: list[_Part], query: bool, uri: str) -> dict[str, str | None] | None:
    """The groups the template's regex gives `uri` (None: no match), found in time linear in its
    length (per part) for any template: which positions each part can go on from to the end is
    worked out backwards first, then each variable takes the end the regex would settle on (the
    longest its class allows, or for `{+var}` the shortest) among those."""
    n = len(uri)
    # `ok[i][p]`: parts i.. match uri[p:] to its end (the end: the URI's, or a '?' and the query,
    # which as the regex's `.*` holds no newline).
    last = bytearray(n + 1)
    last[n] = 1
    if query:
        line_ends = False
        for p in range(n - 1, -1, -1):
            last[p] = uri[p] == "?" and not line_ends
            line_ends = line_ends or uri[p] == "\n"
    ok = [last]
    for part in reversed(parts):
        after, here = ok[-1], bytearray(n + 1)
        if isinstance(part, str):
            size = len(part)
            for p in range(n - size + 1):
                here[p] = after[p + size] and uri.startswith(part, p)
        else:  # a non-empty run of allowed characters (`.` allows all but a newline): an end in it
            banned, reachable = part[1] or "\n", 0
            for p in range(n - 1, -1, -1):
                reachable = 0 if uri[p] in banned else reachable | after[p + 1]
                here[p] = reachable
        ok.append(here)
    ok.reverse()
    if not ok[0][0]:
        return None
    groups: dict[str, str | None] = {}
    p = 0
    for i, part in enumerate(parts):
        after = ok[i + 1]
        if isinstance(part, str):
            p += len(part)
            continue
        name, excluded = part
        end = p + 1
        if excluded is None:  # the shortest value the rest matches after
            while not after[end]:
                end += 1
        else:  # the longest
            while end < n and uri[end] not in excluded:
                end += 1
            while not after[end]:
                end -= 1
        groups[name], p = uri[p:end], end
    if query:
        groups["__query"] = uri[p + 1 :] if p < n else None
    return groups
