"""The typed client's promises that need no server: results of every revision fit the newest types, and
the modes it accepts are the revisions mcpbind has."""

from __future__ import annotations

import typing
from typing import Any

import msgspec
import pytest

from mcpbind.client import Mode
from mcpbind.protocol import revisions

# The results `Client` returns in the newest revision's types.
RESULTS = [
    "CallToolResult",
    "ListToolsResult",
    "ListResourcesResult",
    "ListResourceTemplatesResult",
    "ListPromptsResult",
    "ReadResourceResult",
    "GetPromptResult",
    "CompleteResult",
]

# Members of an older revision's result that the newest revision has no place for (README, "Client").
DROPPED = {("2025-11-25", "Tool", "execution")}


def reachable_structs(roots: list[Any]) -> dict[str, type[msgspec.Struct]]:
    """Every Struct type reachable from `roots`, by class name."""
    found: dict[str, type[msgspec.Struct]] = {}

    def walk(info: msgspec.inspect.Type) -> None:
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls.__name__ in found:
                return
            found[info.cls.__name__] = info.cls
            for field in info.fields:
                walk(field.type)
        elif isinstance(info, msgspec.inspect.UnionType):
            for member in info.types:
                walk(member)
        elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.DictType)):
            walk(info.item_type if isinstance(info, msgspec.inspect.ListType) else info.value_type)

    for info in msgspec.inspect.multi_type_info(roots):
        walk(info)
    return found


@pytest.mark.parametrize("revision", revisions.STATEFUL)
def test_every_member_of_an_older_result_has_a_place_in_the_newest_types(revision: str) -> None:
    old, new = revisions.revision(revision), revisions.revision(revisions.LATEST)
    old_types = reachable_structs([old.type(name) for name in RESULTS if old.has(name)])
    new_types = reachable_structs([new.type(name) for name in RESULTS])
    assert {"CallToolResult", "Tool", "TextContent"} <= old_types.keys()
    lost = set()
    for name, cls in old_types.items():
        if name not in new_types:
            continue  # a type renamed or folded in the newest revision: the conversion test below covers it
        new_names = {f.encode_name for f in msgspec.structs.fields(new_types[name])}
        lost |= {(revision, name, f.encode_name) for f in msgspec.structs.fields(cls)} - {
            (revision, name, n) for n in new_names
        }
    assert lost == {d for d in DROPPED if d[0] == revision}


def test_the_modes_are_auto_legacy_and_every_revision() -> None:
    assert typing.get_args(Mode) == ("auto", "legacy", "draft", *revisions.ALL)
