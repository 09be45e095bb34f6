"""Removing a tool, prompt or resource, and registrations another worker made while serving, applied here.

Functions cannot travel between processes, so what travels between workers is a name. While a bus
between workers is attached (`Server.relay`, set by `mcpbind.transports.http.redis`), a removal keeps
what it removed, here and on the other workers (`withdraw`), and a registration by the same name on
another worker puts it back (`restore`). Nothing is kept without a bus."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from .features import PromptEntry, ResourceEntry, TemplateEntry, ToolEntry
from .scopes import RequiredScopes

__all__ = ["Registrations", "Withdrawn"]

_METHODS = {"tools": "tools/call", "prompts": "prompts/get", "resources": "resources/read"}


class Withdrawn(msgspec.Struct, frozen=True):
    """A registration `withdraw` took out of what is served, as `restore` puts it back."""

    kind: str
    name: str
    entry: Any
    scopes: frozenset[str]


class Registrations:
    """The part of `Server` that removes registrations and applies other workers'."""

    _tools: dict[str, ToolEntry]
    _resources: dict[str, ResourceEntry]
    _templates: list[TemplateEntry]
    _prompts: dict[str, PromptEntry]
    _kept: dict[tuple[str, str], Withdrawn]
    required_scopes: RequiredScopes
    relay: Callable[[str, str], None] | None

    def _changed(self, kind: str, name: str = "", change: str = "", notify: bool = True) -> None:
        raise NotImplementedError  # `Server`'s

    def registered(self, kind: str, name: str) -> bool:
        """Whether a tool, prompt (by name) or resource (by URI or URI template) `kind` names is served."""
        if kind == "tools":
            return name in self._tools
        if kind == "prompts":
            return name in self._prompts
        return name in self._resources or any(t.template.template == name for t in self._templates)

    def withdraw(self, kind: str, name: str, *, notify: bool = False) -> Withdrawn | None:
        """Take the tool, prompt (by name) or resource (by URI or URI template) `kind` ("tools",
        "prompts", "resources") names out of what is served; None when it is not registered (or `kind`
        is none of those). With a bus, it is kept for `restore`. `notify`: tell the clients (and the
        other workers, which withdraw it too); a bus applying another worker's removal does not (the
        worker that made it tells every client)."""
        entry: Any
        if kind == "tools":
            entry = self._tools.pop(name, None)
        elif kind == "prompts":
            entry = self._prompts.pop(name, None)
        elif kind == "resources":
            entry = self._resources.pop(name, None)
            if entry is None:
                entry = next((t for t in self._templates if t.template.template == name), None)
                self._templates = [t for t in self._templates if t is not entry]
        else:
            return None
        if entry is None:
            return None
        method = _METHODS[kind]
        withdrawn = Withdrawn(kind, name, entry, self.required_scopes.declared(method, name))
        self.required_scopes.require(method, name, ())
        if self.relay is not None:  # a registration by this name on another worker puts it back
            self._kept[(kind, name)] = withdrawn
        self._changed(kind, name, "remove", notify=notify)
        return withdrawn

    def restore(self, kind: str, name: str) -> bool:
        """Serve again what `withdraw` kept under `name` (a bus applying another worker's registration by
        that name); False, and nothing changes, when nothing is kept or the name is registered again."""
        kept = self._kept.pop((kind, name), None)
        if kept is None or self.registered(kind, name):
            return False
        entry = kept.entry
        if kind == "tools":
            self._tools[name] = entry
        elif kind == "prompts":
            self._prompts[name] = entry
        elif isinstance(entry, ResourceEntry):
            self._resources[name] = entry
        else:
            self._templates.append(entry)
        self.required_scopes.require(_METHODS[kind], name, kept.scopes)
        self._changed(kind, notify=False)
        return True
