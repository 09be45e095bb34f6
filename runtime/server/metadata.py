"""Definitions of tools, resources, templates, prompts and the server itself, driven by the schema.

The decorators take any member the generated `Tool`, `Resource`, `ResourceTemplate`, `Prompt` or
`Implementation` of a served revision has, by its Python name (`output_schema`, `execution`) or its
wire name (`outputSchema`, `_meta`): the generated Structs' fields are the list, so a member a new
revision adds is usable as soon as that revision is generated. A definition is checked against the
type of every served revision at registration (an invalid value fails there, naming what it belongs
to), and each revision is later sent only the members it has (conversion drops the others).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from .. import wire
from ..protocol import revisions

__all__ = ["members", "checked", "implementation"]

_NAMES: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
"""Per type name and served revisions: every accepted spelling of a member -> its wire name."""


def _names(type_name: str, served: tuple[str, ...]) -> dict[str, str]:
    key = (type_name, served)
    names = _NAMES.get(key)
    if names is None:
        names = {}
        for name in served:
            rev = revisions.revision(name)
            if not rev.has(type_name):
                continue
            for f in msgspec.structs.fields(rev.type(type_name)):
                names[f.name] = names[f.encode_name] = f.encode_name
        _NAMES[key] = names
    return names


def members(type_name: str, served: Iterable[str], given: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """`given` (Python or wire names; typed values such as a `ToolAnnotations` or plain JSON data) as
    wire-named JSON data. A name no served revision's `type_name` has is a TypeError naming `owner`."""
    names = _names(type_name, tuple(served))
    out: dict[str, Any] = {}
    for key, value in given.items():
        wire_name = names.get(key)
        if wire_name is None:
            known = ", ".join(sorted({n for n in names if n.isidentifier()}))
            raise TypeError(
                f"{owner}: {key!r} is not a member of {type_name} in the served revisions ({known})"
            )
        if value is not None:
            out[wire_name] = wire.to_builtins(value)
    return out


def checked(definition: dict[str, Any], type_name: str, served: Iterable[str], owner: str) -> dict[str, Any]:
    """`definition`, after converting it into every served revision's `type_name` (ValueError naming
    `owner` and the revision if one refuses it)."""
    for name in served:
        rev = revisions.revision(name)
        if not rev.has(type_name):
            continue
        try:
            wire.convert(definition, rev.type(type_name))
        except msgspec.ValidationError as exc:
            raise ValueError(f"{owner}: not a valid {type_name} of MCP {name}: {exc}") from None
    return definition


def implementation(
    name: str, version: str, served: Iterable[str], given: Mapping[str, Any]
) -> dict[str, Any]:
    """A server's `Implementation` with `given`'s further members, checked (nothing checked, and no
    revision loaded, when there are none)."""
    if not given:
        return {}
    owner = f"server {name!r}"
    info = {"name": name, "version": version, **members("Implementation", served, given, owner)}
    return checked(info, "Implementation", served, owner)
