"""RFC 6570 URI templates, for matching resource URIs against registered templates.

Supports the expressions resource templates use: `{var}` (one path segment, percent-decoded),
`{+var}` (reserved expansion: may span segments), `{/var}` and `{.var}`, and `{?a,b}` / `{&a}` query
parameters (each optional).

`bind` gives a resource handler its values: a URI whose decoded values would leave their place does not
match there (a `/` or `\\` in a one-segment variable, a `.` or `..` segment, a NUL), so that a handler
that makes a path of `{name}` is not walked out of its folder by `..%2F..%2Fetc%2Fpasswd` (CWE-22).
`match` is the plain RFC 6570 reading, for what must hold for every URI a template covers (the scopes
it requires).
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
        pos = 0
        for match in _EXPR.finditer(template):
            pattern += re.escape(template[pos : match.start()])
            op, names = match.group(1), [n.rstrip("*") for n in match.group(2).split(",")]
            pos = match.end()
            if op in ("?", "&"):
                self._query += names
                self.variables += names
                continue
            for name in names:
                self.variables.append(name)
                if op in ("+", "#"):
                    pattern += ("#" if op == "#" else "") + f"(?P<{name}>.+?)"
                elif op in ("/", "."):
                    pattern += re.escape(op) + f"(?P<{name}>[^/?#.]+)"
                else:
                    pattern += f"(?P<{name}>[^/?#]+)"
                if op not in ("+", "#"):
                    self._segments.add(name)
        pattern += re.escape(template[pos:])
        self._regex = re.compile(pattern + (r"(?:\?(?P<__query>.*))?" if self._query else "") + r"\Z")

    def match(self, uri: str) -> dict[str, str] | None:
        """The variables of `uri` if it matches, else None."""
        found = self._regex.match(uri)
        if found is None:
            return None
        values = {
            k: urllib.parse.unquote(v)
            for k, v in found.groupdict().items()
            if v is not None and k != "__query"
        }
        if self._query and found.group("__query"):
            for key, value in urllib.parse.parse_qsl(found.group("__query")):
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
