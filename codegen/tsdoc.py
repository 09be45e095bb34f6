"""TSDoc in schema prose -> plain readable text, so no generated docstring carries TypeScript doc syntax.

The schema's descriptions are the TypeScript source's doc comments, rendered to JSON by a tool that
keeps inline tags but mangles links: `{@link CallToolRequest | tools/call}` arrives as
`{@link CallToolRequesttools/call}`, the pipe and its spaces dropped. The schema's own definition names
and method constants are what split such a link again, so the rendering is data, not a list of cases:

- `{@link X}` -> `X` (also `X.member.path`);
- `{@link X | m}` where `m` is X's method -> "X (`m`)";
- `{@link X | text}` -> `text`;
- any other inline tag `{@tag text}` -> `text`;
- a block tag opening a line (`@deprecated`, `@see`, ...) -> a label ("Deprecated:", "See:"), or the
  line is dropped for tags that address only the TypeScript tooling (`@internal`, `@category`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

_INLINE: Final = re.compile(r"\{@(\w+)[ \t\n]*([^{}]*)\}")
_LINK_TAGS: Final = frozenset({"link", "linkcode", "linkplain"})
_MEMBER_PATH: Final = re.compile(r"(?:\.[A-Za-z_$][\w$]*)+")

# Block tags (TSDoc standard and TypeDoc's) at the start of a line: a readable label, or None where
# the tag only steers the TypeScript documentation tooling and its line says nothing to a Python reader.
_BLOCK_LABELS: Final[Mapping[str, str | None]] = {
    "deprecated": "Deprecated:",
    "see": "See:",
    "example": "Example:",
    "remarks": "",
    "returns": "Returns:",
    "throws": "Raises:",
    "default": "Default:",
    "defaultValue": "Default:",
    "since": "Since:",
    "param": "Parameter:",
    "typeParam": "Type parameter:",
    "experimental": "Experimental.",
    "beta": "Beta.",
    "alpha": "Alpha.",
    "internal": None,
    "hidden": None,
    "ignore": None,
    "privateRemarks": None,
    "category": None,
    "group": None,
    "module": None,
    "packageDocumentation": None,
    "public": None,
    "readonly": None,
    "sealed": None,
    "virtual": None,
    "override": None,
    "eventProperty": None,
}
_BLOCK: Final = re.compile(r"^([ \t]*)@(" + "|".join(_BLOCK_LABELS) + r")\b[ \t]*(.*)(\n?)", re.M)

# Schema members whose values are data (examples, defaults, constants), never prose to rewrite.
_DATA_KEYS: Final = frozenset({"const", "default", "enum", "examples", "example"})


class TSDoc:
    """Renders TSDoc in the prose of one schema, knowing its definition names and their methods."""

    def __init__(self, names: Mapping[str, str | None]) -> None:
        """`names`: every definition name, with the wire method it carries (or None)."""
        self.methods = names
        # Longest first: `ResultMetaObject` must not be read as a link to `Result` labelled `MetaObject`.
        self.by_length = sorted(names, key=lambda n: (-len(n), n))

    @classmethod
    def of_schema(cls, defs: Mapping[str, dict[str, Any]]) -> TSDoc:
        names: dict[str, str | None] = {}
        for name, node in defs.items():
            method = node.get("properties", {}).get("method", {}).get("const")
            names[name] = method if isinstance(method, str) else None
        return cls(names)

    def link(self, content: str) -> str:
        """The readable form of a link's content: target, or target and label, mangled or not."""
        content = content.strip()
        target, pipe, label = content.partition("|")
        if pipe:
            target, label = target.strip(), label.strip()
        else:
            target, label = self.split(content)
        if not label:
            return target
        base = target.split(".", 1)[0]
        if label.strip("`") == self.methods.get(base):
            return f"{target} (`{label.strip('`')}`)"
        return label

    def split(self, content: str) -> tuple[str, str]:
        """A pipe-less link's target and label: the longest definition name it starts with (and a
        member path after it), the rest being the label; else TSDoc's `target label` spacing."""
        for name in self.by_length:
            if content.startswith(name):
                rest = content[len(name) :]
                path = _MEMBER_PATH.match(rest)
                if path is not None:
                    name, rest = name + path.group(0), rest[path.end() :]
                return name, rest.strip()
        target, _, label = content.partition(" ")
        return target, label.strip()

    def render(self, text: str) -> str:
        if "@" not in text:
            return text
        text = _INLINE.sub(self._inline, text)
        return _BLOCK.sub(_block, text)

    def _inline(self, match: re.Match[str]) -> str:
        tag, content = match.group(1), match.group(2)
        return self.link(content) if tag in _LINK_TAGS else content.strip()

    def rewrite(self, node: Any) -> None:
        """Render every `description` in a schema tree in place; data members are left as they are."""
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "description" and isinstance(value, str):
                    node[key] = self.render(value)
                elif key not in _DATA_KEYS:
                    self.rewrite(value)
        elif isinstance(node, list):
            for item in node:
                self.rewrite(item)


def _block(match: re.Match[str]) -> str:
    indent, tag, rest, end = match.groups()
    label = _BLOCK_LABELS[tag]
    if label is None:  # the whole line goes, its line break with it
        return ""
    return indent + " ".join(part for part in (label, rest.strip()) if part) + end
