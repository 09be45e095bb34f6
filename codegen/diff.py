"""What changed between two schema revisions, and what each change means for the runtime.

`python -m mcpbind.codegen diff A B` prints it for any two pinned revisions; `add-revision` prints it for
the revision it adds against the newest one before it; `docs/revisions/` holds it for each pair of
consecutive published revisions. The comparison is of the corrected schemas (errata applied), member by
member, with descriptions left out: a definition whose prose alone changed is not a change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .pins import Pin
from .source import Source, union_members

#: The unions that list a revision's methods, with the direction each one means.
METHOD_UNIONS: tuple[tuple[str, str, str], ...] = (
    ("ClientRequest", "request", "client to server"),
    ("ServerRequest", "request", "server to client"),
    ("InputRequest", "request", "server to client (input request)"),
    ("ClientNotification", "notification", "client to server"),
    ("ServerNotification", "notification", "server to client"),
)

#: Definitions whose members the high-level server's decorators take as metadata.
METADATA_DEFS = frozenset({"Tool", "Resource", "ResourceTemplate", "Prompt", "Implementation"})
CAPABILITY_DEFS = frozenset({"ServerCapabilities", "ClientCapabilities"})
#: Unions of content blocks (their growth is a new kind of content).
CONTENT_UNIONS = ("ContentBlock", "SamplingContent", "SamplingMessageContentBlock")


@dataclass(frozen=True)
class Method:
    name: str
    kind: str
    direction: str
    definition: str


@dataclass
class Facts:
    """One revision's schema, reduced to what a diff compares."""

    name: str
    stateless: bool
    defs: dict[str, dict[str, Any]]
    methods: dict[str, Method]
    source: Source


@dataclass
class RevisionDiff:
    old: str
    new: str
    era: str | None = None
    defs_added: list[str] = field(default_factory=list)
    defs_removed: list[str] = field(default_factory=list)
    methods_added: list[Method] = field(default_factory=list)
    methods_removed: list[Method] = field(default_factory=list)
    members_added: list[tuple[str, str, bool]] = field(default_factory=list)
    members_removed: list[tuple[str, str]] = field(default_factory=list)
    members_retyped: list[tuple[str, str, str, str]] = field(default_factory=list)
    required_changed: list[tuple[str, str, bool]] = field(default_factory=list)
    union_members_added: list[tuple[str, str]] = field(default_factory=list)
    union_members_removed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.era,
                self.defs_added,
                self.defs_removed,
                self.methods_added,
                self.methods_removed,
                self.members_added,
                self.members_removed,
                self.members_retyped,
                self.required_changed,
                self.union_members_added,
                self.union_members_removed,
            )
        )


def facts_of(name: str, schema: dict[str, Any]) -> Facts:
    """Read `schema` (already corrected) as the diff sees it."""
    defs_key = "$defs" if "$defs" in schema else "definitions"
    pin = Pin(name=name, repo="", commit="", path="", sha256="", bytes=0)
    source = Source(pin=pin, schema=schema, overrides={}, errata_sha256="", defs_key=defs_key)
    methods: dict[str, Method] = {}
    for union, kind, direction in METHOD_UNIONS:
        for def_name in union_members(source, union):
            const = source.defs[def_name].get("properties", {}).get("method", {}).get("const")
            if isinstance(const, str) and const not in methods:
                methods[const] = Method(const, kind, direction, def_name)
    stateless = "ServerRequest" not in source.defs and "InputRequest" in source.defs
    return Facts(name, stateless, source.defs, methods, source)


def _shape(node: Any) -> Any:
    """`node` without prose: what decoding depends on."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in sorted(node.items()) if k not in ("description", "title")}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return node


def _type_text(node: Any) -> str:
    return json.dumps(_shape(node), separators=(",", ":"), sort_keys=True)


def _refs(node: dict[str, Any], prefix: str) -> list[str]:
    members = node.get("anyOf", node.get("oneOf", []))
    return [m["$ref"].removeprefix(prefix) for m in members if isinstance(m, dict) and "$ref" in m]


def _is_union(node: dict[str, Any]) -> bool:
    return "anyOf" in node or "oneOf" in node


def _kind(node: dict[str, Any]) -> str:
    return "union" if _is_union(node) else "object (a union of one member, rendered as that member)"


def compare(old: Facts, new: Facts) -> RevisionDiff:
    out = RevisionDiff(old.name, new.name)
    if old.stateless != new.stateless:
        out.era = "stateless" if new.stateless else "stateful"
    out.defs_added = sorted(set(new.defs) - set(old.defs))
    out.defs_removed = sorted(set(old.defs) - set(new.defs))
    out.methods_added = [new.methods[m] for m in sorted(set(new.methods) - set(old.methods))]
    out.methods_removed = [old.methods[m] for m in sorted(set(old.methods) - set(new.methods))]
    for name in sorted(set(old.defs) & set(new.defs)):
        a, b = old.defs[name], new.defs[name]
        if _is_union(a) != _is_union(b):
            # A union of one member is rendered as a copy of that member (2026-07-28's
            # ClientNotification): compare it as a whole, not member by member.
            out.members_retyped.append((name, "(whole)", _kind(a), _kind(b)))
            continue
        pa: dict[str, Any] = a.get("properties", {})
        pb: dict[str, Any] = b.get("properties", {})
        ra, rb = set(a.get("required", [])), set(b.get("required", []))
        for member in sorted(set(pb) - set(pa)):
            out.members_added.append((name, member, member in rb))
        for member in sorted(set(pa) - set(pb)):
            out.members_removed.append((name, member))
        for member in sorted(set(pa) & set(pb)):
            ta, tb = _type_text(pa[member]), _type_text(pb[member])
            if ta != tb:
                out.members_retyped.append((name, member, ta, tb))
            if (member in ra) != (member in rb):
                out.required_changed.append((name, member, member in rb))
        ua = set(_refs(a, old.source.ref_prefix))
        ub = set(_refs(b, new.source.ref_prefix))
        out.union_members_added += [(name, m) for m in sorted(ub - ua)]
        out.union_members_removed += [(name, m) for m in sorted(ua - ub)]
    return out


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _method_meaning(method: Method, added: bool) -> str:
    if not added:
        return "not routed on this revision any more; a handler registered for it stays for the others"
    if method.kind == "notification":
        return (
            "a new notification: the generated tables decode it; a peer that does not handle it ignores it"
            " (register a handler to act on it)"
        )
    if method.direction == "client to server":
        return (
            "a new request servers answer: serve it with `@server.method(...)` (typed registration) or the"
            " low-level `ServerHandler`; clients call it through the revision's `ClientStub`; if a"
            " capability gates it, add it to `protocol/dispatch.FEATURES`"
        )
    return "a new question servers ask clients: a client answers it through its request callback"


def render(diff: RevisionDiff) -> str:
    """The diff as Markdown, each change with what it means for the runtime."""
    lines = [f"# MCP {diff.old} -> {diff.new}", ""]
    if diff.empty:
        lines += ["No change to definitions, members or methods (prose may differ).", ""]
        return "\n".join(lines)
    if diff.era:
        lines += [
            "## Era",
            "",
            f"- {diff.new} is **{diff.era}**: its requests are served by the "
            f"{'envelope' if diff.era == 'stateless' else 'session'} era (`protocol/eras`).",
            "",
        ]
    if diff.methods_added or diff.methods_removed:
        lines += ["## Methods", ""]
        for method in diff.methods_added:
            lines.append(
                f"- added `{method.name}` ({method.kind}, {method.direction}, `{method.definition}`): "
                + _method_meaning(method, True)
            )
        for method in diff.methods_removed:
            lines.append(
                f"- removed `{method.name}` ({method.kind}, {method.direction}): "
                + _method_meaning(method, False)
            )
        lines.append("")
    if diff.defs_added or diff.defs_removed:
        lines += ["## Definitions", ""]
        if diff.defs_added:
            lines.append(
                "- added: " + ", ".join(f"`{d}`" for d in diff.defs_added) + " (new generated types)"
            )
        if diff.defs_removed:
            lines.append(
                "- removed: "
                + ", ".join(f"`{d}`" for d in diff.defs_removed)
                + " (gone from this revision's module; code naming them must use another revision's)"
            )
        lines.append("")
    union_changes = diff.union_members_added or diff.union_members_removed
    if union_changes:
        lines += ["## Unions", ""]
        for union, member in diff.union_members_added:
            meaning = (
                "a new kind of content: tools and prompts may send it on this revision; earlier revisions'"
                " peers never receive it (the server refuses to send what their schema forbids)"
                if union in CONTENT_UNIONS
                else "one more member to decode (selected by its tag or shape)"
            )
            lines.append(f"- `{union}` admits `{member}`: {meaning}")
        for union, member in diff.union_members_removed:
            lines.append(f"- `{union}` no longer admits `{member}`: refused when sending on this revision")
        lines.append("")
    member_changes = (
        diff.members_added or diff.members_removed or diff.members_retyped or diff.required_changed
    )
    if member_changes:
        lines += ["## Members", ""]
        for owner, member, required in diff.members_added:
            if owner in METADATA_DEFS:
                meaning = "taken by the server's decorators as metadata and sent on this revision only"
            elif owner in CAPABILITY_DEFS:
                meaning = "a capability: gate the methods it covers (`protocol/dispatch`)"
            else:
                meaning = "decoded and encoded by the generated type"
            req = "required" if required else "optional"
            lines.append(f"- `{owner}.{member}` added ({req}): {meaning}")
        for owner, member in diff.members_removed:
            lines.append(f"- `{owner}.{member}` removed: never sent on this revision")
        for owner, member, before, after in diff.members_retyped:
            lines.append(
                f"- `{owner}.{member}` retyped: `{_short(before)}` -> `{_short(after)}`"
                " (values valid before may be refused now, or the reverse)"
            )
        for owner, member, now_required in diff.required_changed:
            what = "now required: senders must always send it" if now_required else "now optional"
            lines.append(f"- `{owner}.{member}` {what}")
        lines.append("")
    return "\n".join(lines)
